from __future__ import annotations

from celery import shared_task

from plantops.health import fit_runs, monitoring, predictions, selectors


@shared_task(name="health.update_all", ignore_result=True)
def update_all() -> None:
    """Fan out one feature run per monitored asset, so a slow asset holds up no other."""
    for asset_id in selectors.monitored_asset_ids():
        update_asset.delay(asset_id)


@shared_task(name="health.update_asset", ignore_result=True)
def update_asset(asset_id: int) -> None:
    """Turn the asset's new readings into features and judge them; the asset may be gone."""
    monitoring.health_update_asset(asset_id=asset_id)


@shared_task(name="health.predict_all", ignore_result=True)
def predict_all() -> None:
    """Fan out one prediction per asset that a fitted estimator covers."""
    for asset_id in selectors.predicted_asset_ids():
        predict_asset.delay(asset_id)


@shared_task(name="health.predict_asset", ignore_result=True)
def predict_asset(asset_id: int) -> None:
    """Store the asset's new remaining-life predictions and raise or return their alerts."""
    predictions.prediction_make(asset_id=asset_id)


@shared_task(name="health.fit_run", ignore_result=True)
def fit_run(run_id: int) -> None:
    """Fit as the run asks, its progress on its row; a run already claimed is left alone."""
    fit_runs.fit_run_execute(run_id=run_id)


@shared_task(name="health.expire_fit_runs", ignore_result=True)
def expire_fit_runs() -> None:
    """Fail the fits whose worker died, so none shows as running for ever."""
    fit_runs.fit_runs_expire()
