"""Writes for fits of the remaining-life estimators started from the model-health page or the
command line: the `FitRun` row that says how far each has got, pushed to the page as it moves.

A fit runs in a worker (`tasks.fit_run`), which claims its queued row once: a task delivered
again (a lost worker's task put back, a broker's redelivery) finds it claimed and does nothing.
While it fits, a thread touches the row's heartbeat; a run whose worker died stops doing so and
`fit_runs_expire` fails it, so the page never shows it running for ever. One fit per asset type
and failure mode may be under way at a time: the database refuses a second (a constraint).

A run's stage and failure are kept as codes beside their English (`fit_words`): the page words
them in its viewer's language. Refusals answer the request, in its language.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext, gettext_lazy

from plantops.assets.models import AssetType
from plantops.core import realtime
from plantops.core.refusals import Refused, require_permission
from plantops.health import fit_words, selectors, training
from plantops.health.models import FIT_UNDER_WAY, FailureMode, FitRun, FitStatus

logger = logging.getLogger(__name__)

FIT_PERMISSION = "health.add_fitrun"
REFUSAL = gettext_lazy("Only supervisors and admins may fit the remaining-life models.")
# Told each stage as it starts, besides the row (the command line prints it).
Observer = Callable[[FitRun], None]


def _pair_text(asset_type: str, failure_mode: FailureMode) -> str:
    return f"{AssetType(asset_type).label} · {failure_mode.label}"


def fit_run_request(
    *,
    asset_type: str,
    failure_mode_code: str,
    user: Any,
    cap_days: float = training.DEFAULT_CAP_DAYS,
    now: datetime | None = None,
) -> FitRun:
    """Queue a fit of an asset type and failure mode for a worker, on behalf of `user`.

    Refused for a role that may not fit (supervisors and admins may) and while a fit of the
    same pair is under way; a ValidationError names an unknown asset type or failure mode.
    """
    require_permission(user, FIT_PERMISSION, REFUSAL)
    if asset_type not in AssetType.values:
        raise ValidationError(
            {"asset_type": gettext("Unknown asset type %(code)r.") % {"code": asset_type}}
        )
    failure_mode = FailureMode.objects.filter(code=failure_mode_code).first()
    if failure_mode is None:
        raise ValidationError(
            {
                "failure_mode": gettext("Unknown failure mode %(code)r.")
                % {"code": failure_mode_code}
            }
        )
    run = fit_run_create(
        asset_type=asset_type, failure_mode=failure_mode, user=user, cap_days=cap_days, now=now
    )
    transaction.on_commit(lambda: _hand_to_worker(run.pk))
    return run


def fit_run_create(
    *,
    asset_type: str,
    failure_mode: FailureMode,
    user: Any = None,
    cap_days: float = training.DEFAULT_CAP_DAYS,
    now: datetime | None = None,
) -> FitRun:
    """Record a queued fit (by `user`, or None: the command line); refused while another fit
    of the pair is under way. Checks no role: `fit_run_request` does, for the page."""
    now = now or timezone.now()
    # A fit whose worker died must not hold the pair until the sweep comes round.
    fit_runs_expire(now=now)
    under_way = _under_way(asset_type, failure_mode)
    if under_way is not None:
        raise Refused(_busy_text(under_way, now))
    try:
        with transaction.atomic():
            run = FitRun.objects.create(
                asset_type=asset_type,
                failure_mode=failure_mode,
                cap_days=cap_days,
                requested_by=user,
                requested_at=now,
                stage="queued",
                stage_text=fit_words.STAGES["queued"],
            )
    except IntegrityError:
        # Another request got there between the check and the insert.
        under_way = _under_way(asset_type, failure_mode)
        raise Refused(
            _busy_text(under_way, now)
            if under_way
            else gettext("A fit of %(pair)s is already under way.")
            % {"pair": _pair_text(asset_type, failure_mode)}
        ) from None
    _push(run.pk)
    return run


def _under_way(asset_type: str, failure_mode: FailureMode) -> FitRun | None:
    return (
        FitRun.objects.select_related("failure_mode", "requested_by")
        .filter(asset_type=asset_type, failure_mode=failure_mode, status__in=FIT_UNDER_WAY)
        .first()
    )


def _busy_text(run: FitRun, now: datetime) -> str:
    by = run.requested_by
    who = (by.get_full_name() or by.get_username()) if by else gettext("the command line")
    where = (
        gettext("%(percent)s %% done") % {"percent": run.percent}
        if run.status == FitStatus.RUNNING
        else gettext("waiting for a worker")
    )
    when = (
        gettext("just now")
        if now - run.requested_at < timedelta(minutes=1)
        else gettext("%(time)s ago") % {"time": timesince(run.requested_at, now)}
    )
    return gettext(
        "%(pair)s is already being fitted: started by %(who)s %(when)s, %(where)s. Wait for it "
        "to finish, then fit again if you still need to."
    ) % {
        "pair": _pair_text(run.asset_type, run.failure_mode),
        "who": who,
        "when": when,
        "where": where,
    }


def _hand_to_worker(run_id: int) -> None:
    from plantops.health import tasks

    try:
        tasks.fit_run.delay(run_id)
    except Exception:
        logger.exception("could not queue fit %s", run_id)
        _finish(
            run_id,
            status=FitStatus.FAILED,
            error=_error_fields("queue_down"),
            only_if=FitStatus.QUEUED,
        )


def fit_run_execute(*, run_id: int, observer: Observer | None = None) -> FitRun | None:
    """Fit as the queued run asks, writing each stage and its percent on the row and pushing
    it; return the finished run, or None when the run is gone or already claimed.

    What the fit refuses (nothing to learn from) ends the run as failed with that reason; so
    does an unexpected error, which is also logged.
    """
    now = timezone.now()
    claimed = FitRun.objects.filter(pk=run_id, status=FitStatus.QUEUED).update(
        status=FitStatus.RUNNING,
        started_at=now,
        heartbeat_at=now,
        stage="starting",
        stage_text=fit_words.STAGES["starting"],
        revision=F("revision") + 1,
    )
    if not claimed:
        return None  # Nothing got updated: a worker took it before, or it was cancelled.
    run = FitRun.objects.select_related("failure_mode").get(pk=run_id)
    _push(run_id)
    progress = _Progress(run_id, observer)
    with _heartbeat(run_id):
        try:
            model = training.health_model_fit(
                asset_type=run.asset_type,
                failure_mode=run.failure_mode,
                cap_days=run.cap_days,
                progress=progress,
            )
        except training.FitRefused as refusal:
            error = _error_fields(refusal.code, refusal.params)
            return _finish(run_id, status=FitStatus.FAILED, error=error)
        except ValueError as error:
            # In the English of the code that refused, which has no words of its own here.
            return _finish(run_id, status=FitStatus.FAILED, error={"error": _sentence(str(error))})
        except Exception as error:
            logger.exception("fit %s of %s failed", run_id, run)
            error = _error_fields("unexpected", {"error": f"{type(error).__name__}: {error}"})
            return _finish(run_id, status=FitStatus.FAILED, error=error)
    return _finish(
        run_id, status=FitStatus.SUCCEEDED, model=model, result=selectors.fit_result(model)
    )


def _sentence(text: str) -> str:
    text = text.strip()
    return f"{text[:1].upper()}{text[1:]}{'' if text.endswith('.') else '.'}"


class _Progress:
    """The fit's `progress`: written (and pushed) when a stage starts or the percent moves
    on, so at most about a hundred times however many runs the fit reads one by one. The
    percent never goes back, and reaches 100 only with the saved version."""

    def __init__(self, run_id: int, observer: Observer | None) -> None:
        self.run_id = run_id
        self.observer = observer
        self.stage = ""
        self.percent = 0

    def __call__(
        self, stage: str, text: str, done: float, *, part: int = 0, parts: int = 0
    ) -> None:
        percent = max(self.percent, min(99, int(done * 100)))
        if stage == self.stage and percent == self.percent:
            return
        self.stage, self.percent = stage, percent
        FitRun.objects.filter(pk=self.run_id, status=FitStatus.RUNNING).update(
            stage=stage,
            stage_text=text,
            stage_part=part,
            stage_parts=parts,
            percent=percent,
            heartbeat_at=timezone.now(),
            revision=F("revision") + 1,
        )
        run = _push(self.run_id)
        if self.observer is not None and run is not None:
            self.observer(run)


@contextmanager
def _heartbeat(run_id: int) -> Iterator[None]:
    """Touch the running row's heartbeat every sixth of `HEALTH_FIT_STALE_S` from a thread of
    its own, however long one stage of the fit takes; it dies with the worker."""
    stop = threading.Event()
    every_s = settings.HEALTH_FIT_STALE_S / 6

    def beat() -> None:
        try:
            while not stop.wait(every_s):
                try:
                    FitRun.objects.filter(pk=run_id, status=FitStatus.RUNNING).update(
                        heartbeat_at=timezone.now()
                    )
                except Exception:
                    logger.warning("could not touch fit %s's heartbeat", run_id, exc_info=True)
        finally:
            connection.close()  # this thread's own

    thread = threading.Thread(target=beat, name=f"fit-{run_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _error_fields(code: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """A failure's row fields: its code and params, and its English (`fit_words.ERRORS`)."""
    params = params or {}
    error = fit_words.error_text(code, params, translate=fit_words.as_written)
    return {"error": error, "error_code": code, "error_params": params}


def _finish(
    run_id: int,
    *,
    status: str,
    error: dict[str, Any] | None = None,
    model: Any = None,
    result: dict[str, Any] | None = None,
    only_if: str | None = None,
) -> FitRun | None:
    """End the run as `status` and push it; a failure's `error` holds its fields
    (`_error_fields`). Also over a run the sweep had failed meanwhile (a stalled heartbeat):
    what the fit really did is the better record."""
    runs = FitRun.objects.filter(pk=run_id)
    if only_if is not None:
        runs = runs.filter(status=only_if)
    fields: dict[str, Any] = {
        "status": status,
        "finished_at": timezone.now(),
        "error": "",
        "error_code": "",
        "error_params": {},
        "revision": F("revision") + 1,
        **(error or {}),
    }
    if status == FitStatus.SUCCEEDED:
        fields |= {
            "stage": "done",
            "stage_text": fit_words.STAGES["done"],
            "stage_part": 0,
            "stage_parts": 0,
            "percent": 100,
            "model": model,
            "result": result or {},
        }
    runs.update(**fields)
    return _push(run_id)


def fit_runs_expire(*, now: datetime | None = None) -> int:
    """Fail the runs whose worker has stopped touching their heartbeat for `HEALTH_FIT_STALE_S`
    (killed, restarted, out of memory), and those no worker took up within
    `HEALTH_FIT_QUEUED_S`; return how many."""
    now = now or timezone.now()
    silent = now - timedelta(seconds=settings.HEALTH_FIT_STALE_S)
    waited = now - timedelta(seconds=settings.HEALTH_FIT_QUEUED_S)
    expired = []
    with transaction.atomic():
        # Locked, so a heartbeat written meanwhile is seen by the update's own WHERE.
        candidates = list(
            FitRun.objects.select_for_update(skip_locked=True)
            .filter(
                Q(status=FitStatus.RUNNING, heartbeat_at__lt=silent)
                | Q(status=FitStatus.QUEUED, requested_at__lt=waited)
            )
            .only("pk", "status", "percent", "stage", "stage_text", "stage_part", "stage_parts")
        )
        for run in candidates:
            if run.status == FitStatus.RUNNING:
                stage = {"stage": run.stage, "part": run.stage_part, "parts": run.stage_parts}
                error = _error_fields("worker_lost", {"percent": run.percent, **stage})
                # The stage as the row told it, whatever its code.
                error["error"] = fit_words.ERRORS["worker_lost"] % {
                    "percent": run.percent,
                    "stage": run.stage_text,
                }
            else:
                minutes = round(settings.HEALTH_FIT_QUEUED_S / 60)
                error = _error_fields("not_taken", {"minutes": minutes})
            FitRun.objects.filter(pk=run.pk).update(
                status=FitStatus.FAILED,
                finished_at=now,
                revision=F("revision") + 1,
                **error,
            )
            expired.append(run.pk)
    for run_id in expired:
        _push(run_id)
    return len(expired)


def _push(run_id: int) -> FitRun | None:
    """Push the run as it now stands to the model-health pages, once it is committed."""
    run = FitRun.objects.select_related("failure_mode", "requested_by").filter(pk=run_id).first()
    if run is not None:
        message = {"type": "fit.run", "run": selectors.fit_run_json(run)}
        realtime.send_on_commit([(realtime.HEALTH_FITS_GROUP, message)])
    return run
