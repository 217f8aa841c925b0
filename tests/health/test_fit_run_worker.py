"""A fit asked for on the model-health page runs in a real Celery worker, reporting on its row
as it goes; a worker killed in the middle leaves a run that turns failed after the timeout,
and the task Redis gives back to the next worker fits nothing a second time.

The page's post queues `health.fit_run` on the Redis broker when its transaction commits; the
workers (`celery -A plantops worker`) consume that queue, against the test's PostgreSQL.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from itertools import pairwise

import pytest
from django.conf import settings as django_settings

from plantops.health import fit_runs
from plantops.health.models import FitRun, FitStatus, HealthModel
from tests.conftest import wait_for
from tests.factories import logged_in, make_user
from tests.health.test_fit_runs import FIT_URL, import_fleet
from tests.notify.test_send_kills import forget_queue
from tests.worker_kills import redis_holds

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

# A worker silent this long has lost its fit; it touches the row every sixth of it.
STALE_S = 1.2
ENDED = (FitStatus.SUCCEEDED, FitStatus.FAILED)

Seen = tuple[str, str, int, datetime | None]


@pytest.fixture
def fit_queue(processes, settings) -> Iterator[str]:
    """The workers consume the queue this process sends to."""
    queue = django_settings.CELERY_TASK_DEFAULT_QUEUE
    forget_queue(queue)
    processes.env.update(CELERY_QUEUE=queue, HEALTH_FIT_STALE_S=str(STALE_S))
    settings.HEALTH_FIT_STALE_S = STALE_S
    yield queue
    forget_queue(queue)


def watch(run_id: int, *, until: Callable[[Seen], bool], timeout: float) -> list[Seen]:
    """Every state of the run's row seen, polling, until one satisfies `until`."""
    seen: list[Seen] = []
    deadline = time.monotonic() + timeout
    while not seen or not until(seen[-1]):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s; the run went through {seen}")
        state = FitRun.objects.values_list("status", "stage", "percent", "heartbeat_at").get(
            pk=run_id
        )
        if not seen or state != seen[-1]:
            seen.append(state)
        time.sleep(0.01)
    return seen


def test_a_fit_asked_for_on_the_page_is_fitted_by_a_worker_that_reports_as_it_goes(
    processes, fit_queue
):
    import_fleet()
    processes.worker()
    page = logged_in(make_user(role="supervisor", username="sam"))

    answer = page.post(
        FIT_URL,
        {"asset_type": "motor", "failure_mode": "bearing"},
        headers={"accept": "application/json"},
    )
    run_id = answer.json()["run"]["id"]
    seen = watch(run_id, until=lambda state: state[0] in ENDED, timeout=120)

    run = FitRun.objects.get(pk=run_id)
    assert run.status == FitStatus.SUCCEEDED, f"{run.error}\n{processes.log('worker')[-3000:]}"
    running = [state for state in seen if state[0] == FitStatus.RUNNING]
    percents = [state[2] for state in seen]
    assert percents == sorted(percents)
    assert len({p for p in percents if 0 < p < 100}) >= 3
    assert {"loading", "cross_validation", "final_fit"} <= {state[1] for state in running}
    # The heartbeat moves on its own between the stages' writes.
    assert any(a[:3] == b[:3] and a[3] < b[3] for a, b in pairwise(running)), running
    model = HealthModel.objects.get()
    assert (run.model, model.version, model.active, run.percent) == (model, 1, True, 100)
    assert run.result["n_units"] == 3
    assert "Task health.fit_run" in processes.log("worker")


def test_a_fit_whose_worker_is_killed_turns_failed_and_is_not_fitted_again(processes, fit_queue):
    # Redis gives the dead worker's task back to a worker that starts this long after.
    processes.env["CELERY_VISIBILITY_TIMEOUT_S"] = "2"
    import_fleet()
    first = processes.worker()
    run = fit_runs.fit_run_request(
        asset_type="motor", failure_mode_code="bearing", user=make_user(role="supervisor")
    )
    watch(run.pk, until=lambda state: state[1] == "cross_validation", timeout=120)

    first.kill()
    first.wait()
    killed = FitRun.objects.get(pk=run.pk)
    assert killed.status == FitStatus.RUNNING  # nothing has told anyone yet

    wait_for(
        lambda: fit_runs.fit_runs_expire() or FitRun.objects.get(pk=run.pk).status != "running",
        timeout=STALE_S + 10,
        what="the sweep to fail the silent run",
    )
    failed = FitRun.objects.get(pk=run.pk)
    assert failed.status == FitStatus.FAILED
    assert failed.error.startswith(f"The worker fitting it stopped answering at {killed.percent} %")
    assert (failed.finished_at - killed.heartbeat_at).total_seconds() >= STALE_S

    processes.worker()
    wait_for(
        lambda: redis_holds(django_settings.CELERY_BROKER_URL, fit_queue) == 0,
        timeout=60,
        what="the dead worker's task to be taken again and acknowledged",
    )
    wait_for(
        lambda: "succeeded" in processes.log("worker-2"),
        timeout=30,
        what="the second worker to finish the task it was given back",
    )
    assert "Task health.fit_run" in processes.log("worker-2")
    again = FitRun.objects.get(pk=run.pk)
    assert (again.status, again.revision, again.error) == (
        FitStatus.FAILED,
        failed.revision,
        failed.error,
    )
    assert not HealthModel.objects.exists()
