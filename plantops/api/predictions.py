"""API v1: predictions: the current prediction per asset and its history.

A prediction is of one asset's remaining useful life in one failure mode, as the asset page
shows it (`plantops.health.selectors`).
"""

# No `from __future__ import annotations`: ninja builds the query parameters from the
# operations' annotations, which it cannot resolve when they are strings.

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import CursorPagination, paginate

from plantops.api import selectors
from plantops.health.models import Prediction
from plantops.health.selectors import HISTORY_DAYS

router = Router(tags=["predictions"])


class RemainingLife(Schema):
    low: float = Field(description="Low end of the interval.")
    estimate: float = Field(description="The central estimate.")
    high: float = Field(description="High end of the interval.")
    unit: str = Field(
        description="days: plant days from made_at, calendar days but in the sped-up demo."
    )


class Driver(Schema):
    column: str = Field(description="The health feature, e.g. vibration_rms_z.")
    weight: float = Field(description="Its share in this prediction, largest first.")


class ModelOut(Schema):
    name: str = Field(description="asset type / failure mode / version, e.g. motor/bearing/v2.")
    version: int
    algorithm: str
    fitted_at: datetime = Field(description="RFC 3339 with the offset of the caller's zone.")


class Outcome(Schema):
    actual_days: float | None = Field(description="The remaining life it really had, in days.")
    inside_interval: bool | None
    error_days: float | None = Field(description="Estimate minus actual: positive is late.")


class PredictionOut(Schema):
    id: int
    asset_id: int
    line_id: int
    failure_mode: str = Field(description="The failure mode's code, e.g. bearing.")
    failure_mode_label: str
    made_at: datetime = Field(description="RFC 3339 with the offset of the caller's zone.")
    remaining_life: RemainingLife
    confidence: float = Field(
        description="The coverage the interval is made for: the share of failures it should "
        "hold, e.g. 0.9."
    )
    health_index: float = Field(description="1 healthy … 0 at failure.")
    drivers: list[Driver] = Field(description="The features that drive it most, largest first.")
    model: ModelOut
    outcome: Outcome | None = Field(description="Once a failure scored it; null until then.")

    @staticmethod
    def resolve_line_id(prediction: Prediction) -> int:
        return prediction.asset.line_id

    @staticmethod
    def resolve_failure_mode(prediction: Prediction) -> str:
        return prediction.failure_mode.code

    @staticmethod
    def resolve_failure_mode_label(prediction: Prediction) -> str:
        return prediction.failure_mode.label

    @staticmethod
    def resolve_remaining_life(prediction: Prediction) -> dict:
        return {
            "low": prediction.rul_low_days,
            "estimate": prediction.rul_days,
            "high": prediction.rul_high_days,
            "unit": "days",
        }

    @staticmethod
    def resolve_drivers(prediction: Prediction) -> list[dict]:
        return [
            driver
            for driver in prediction.inputs.get("drivers", [])
            if {"column", "weight"} <= set(driver)
        ]

    @staticmethod
    def resolve_model(prediction: Prediction) -> dict:
        model = prediction.model
        return {
            "name": model.label,
            "version": model.version,
            "algorithm": model.algorithm,
            "fitted_at": model.fitted_at,
        }

    @staticmethod
    def resolve_outcome(prediction: Prediction) -> dict | None:
        if prediction.actual_rul_days is None:
            return None
        return {
            "actual_days": prediction.actual_rul_days,
            "inside_interval": prediction.inside_interval,
            "error_days": prediction.error_days,
        }


class HistoryQuery(Schema):
    start: datetime | None = Field(
        None, alias="from", description="Made at or after, with an offset."
    )
    end: datetime | None = Field(None, alias="to", description="Made before.")


@router.get(
    "/predictions",
    response=list[PredictionOut],
    summary="Current predictions",
    description="Each asset's latest prediction per failure mode, as the asset page shows it "
    f"(made within the last {HISTORY_DAYS} days).",
)
@paginate(CursorPagination, ordering=("asset_id", "id"))
def list_predictions(request: HttpRequest, line_id: int | None = None, asset_id: int | None = None):
    return selectors.current_predictions(request.user, line_id=line_id, asset_id=asset_id)


@router.get(
    "/assets/{asset_id}/predictions",
    response=list[PredictionOut],
    summary="An asset's prediction history",
    description="Every prediction of the asset, newest first, made in [from, to).",
)
@paginate(CursorPagination, ordering=("-made_at", "-id"))
def asset_prediction_history(request: HttpRequest, asset_id: int, query: Query[HistoryQuery]):
    return selectors.asset_predictions(
        request.user, asset_id=asset_id, start=query.start, end=query.end
    )
