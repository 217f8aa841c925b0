"""Fits started from the model-health page: who may start one, one at a time per model, the
progress a page is pushed stage by stage, and runs whose worker died."""

from __future__ import annotations

import asyncio
import io
import re
from datetime import timedelta

import numpy as np
import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone, translation

from plantops.asgi import application
from plantops.core.refusals import Refused
from plantops.health import fit_runs, selectors, training
from plantops.health.models import FitRun, FitStatus, HealthModel
from tests.factories import logged_in, make_user
from tests.health.test_predictions import COLUMNS, bearing, degrading_run, fitted_model
from tests.sockets import communicator

pytestmark = pytest.mark.django_db

FIT_URL = "/health/models/fit"


def import_fleet(*, asset_type: str = "motor", units: int = 3) -> None:
    """A small fleet of rig runs to failure: a real fit of it takes seconds, in three rounds."""
    rng = np.random.default_rng(7)
    for n in range(units):
        life = int(rng.integers(90, 160))
        training.history_import(
            asset_type=asset_type,
            failure_mode=bearing(),
            name=f"rig-{n}",
            step_s=3600,
            settings_values=np.zeros((life, 0)),
            sensor_values=degrading_run(life, seed=n),
            settings_columns=[],
            sensor_columns=COLUMNS,
        )


def request_fit(user, asset_type: str = "motor") -> FitRun:
    return fit_runs.fit_run_request(asset_type=asset_type, failure_mode_code="bearing", user=user)


@pytest.mark.parametrize("role", ["operator", "technician", "manager"])
def test_only_supervisors_and_admins_may_start_a_fit(role):
    bearing()
    with pytest.raises(Refused, match="Only supervisors and admins may fit"):
        request_fit(make_user(role=role))
    assert not FitRun.objects.exists()
    assert request_fit(make_user(role="admin")).status == FitStatus.QUEUED


def test_a_second_fit_of_the_same_model_is_refused_while_the_first_is_under_way():
    bearing()
    sam = make_user(role="supervisor", username="sam")
    first = request_fit(sam)

    with pytest.raises(Refused) as refusal:
        request_fit(make_user(role="supervisor", username="sue"))

    assert str(refusal.value) == (
        "Motor · Bearing degradation is already being fitted: started by sam just now, "
        "waiting for a worker. Wait for it to finish, then fit again if you still need to."
    )
    assert (first.requested_by, first.status, first.stage_text) == (
        sam,
        FitStatus.QUEUED,
        "Waiting for a worker",
    )
    # Another model is free, and so is this one once the first has ended.
    assert request_fit(sam, asset_type="pump").status == FitStatus.QUEUED
    FitRun.objects.filter(pk=first.pk).update(status=FitStatus.FAILED)
    assert request_fit(sam).status == FitStatus.QUEUED


def test_the_refusal_says_how_far_the_running_fit_has_got():
    bearing()
    run = request_fit(make_user(role="supervisor", username="sam"))
    later = timezone.now() + timedelta(minutes=3)
    FitRun.objects.filter(pk=run.pk).update(
        status=FitStatus.RUNNING, percent=42, heartbeat_at=later
    )
    with pytest.raises(Refused, match=r"started by sam 3\xa0minutes ago, 42 % done\."):
        fit_runs.fit_run_request(
            asset_type="motor", failure_mode_code="bearing", user=run.requested_by, now=later
        )


def test_the_database_holds_one_fit_under_way_per_model_whoever_writes_it():
    run = request_fit(make_user(role="supervisor"))
    with pytest.raises(IntegrityError):
        FitRun.objects.create(
            asset_type="motor",
            failure_mode=bearing(),
            cap_days=30,
            status=FitStatus.RUNNING,
            requested_at=run.requested_at,
        )


def test_an_unknown_asset_type_or_failure_mode_is_named():
    bearing()
    sam = make_user(role="supervisor")
    with pytest.raises(Exception, match="Unknown asset type 'boat'"):
        fit_runs.fit_run_request(asset_type="boat", failure_mode_code="bearing", user=sam)
    with pytest.raises(Exception, match="Unknown failure mode 'rust'"):
        fit_runs.fit_run_request(asset_type="motor", failure_mode_code="rust", user=sam)


def test_a_fit_with_nothing_to_learn_from_ends_as_failed_with_the_reason():
    run = request_fit(make_user(role="supervisor"), asset_type="pump")

    finished = fit_runs.fit_run_execute(run_id=run.pk)

    assert finished.status == FitStatus.FAILED
    assert finished.error == (
        "No run to failure of a pump in mode bearing to learn from: record failures on assets "
        "or import histories."
    )
    assert finished.finished_at is not None
    assert not HealthModel.objects.exists()


def test_a_fleet_of_one_run_is_refused_in_the_plant_s_words():
    import_fleet(asset_type="pump", units=1)
    run = request_fit(make_user(role="supervisor"), asset_type="pump")

    finished = fit_runs.fit_run_execute(run_id=run.pk)

    assert (finished.status, finished.error) == (
        FitStatus.FAILED,
        "Only one run to failure of a pump in mode bearing to learn from, and a fit needs two: "
        "record failures on assets or import histories.",
    )


def test_a_run_already_taken_up_is_not_fitted_a_second_time():
    run = request_fit(make_user(role="supervisor"))
    FitRun.objects.filter(pk=run.pk).update(status=FitStatus.RUNNING, stage="final_fit")

    assert fit_runs.fit_run_execute(run_id=run.pk) is None
    assert fit_runs.fit_run_execute(run_id=999_999) is None
    run.refresh_from_db()
    assert (run.status, run.stage) == (FitStatus.RUNNING, "final_fit")


def test_the_sweep_fails_a_run_whose_worker_fell_silent_and_one_no_worker_took():
    stale_s, queued_s = settings.HEALTH_FIT_STALE_S, settings.HEALTH_FIT_QUEUED_S
    now = timezone.now()
    sam = make_user(role="supervisor")
    silent = request_fit(sam)
    alive = request_fit(sam, asset_type="pump")
    lost = request_fit(sam, asset_type="fan")
    waiting = request_fit(sam, asset_type="press")
    FitRun.objects.filter(pk=silent.pk).update(
        status=FitStatus.RUNNING,
        percent=37,
        stage_text="Testing on runs it has not seen (round 2 of 5)",
        heartbeat_at=now - timedelta(seconds=stale_s + 1),
    )
    FitRun.objects.filter(pk=alive.pk).update(
        status=FitStatus.RUNNING, heartbeat_at=now - timedelta(seconds=stale_s - 1)
    )
    FitRun.objects.filter(pk=lost.pk).update(requested_at=now - timedelta(seconds=queued_s + 60))
    FitRun.objects.filter(pk=waiting.pk).update(requested_at=now - timedelta(seconds=queued_s - 60))

    assert fit_runs.fit_runs_expire(now=now) == 2

    status = dict(FitRun.objects.values_list("asset_type", "status"))
    assert status == {
        "motor": FitStatus.FAILED,
        "pump": FitStatus.RUNNING,
        "fan": FitStatus.FAILED,
        "press": FitStatus.QUEUED,
    }
    silent.refresh_from_db()
    assert silent.error == (
        "The worker fitting it stopped answering at 37 %, while “Testing on runs it has not "
        "seen (round 2 of 5)” (restarted, or out of memory). Nothing was saved; start the fit "
        "again."
    )
    assert FitRun.objects.get(pk=lost.pk).error.startswith("No worker took the fit up within 30")
    # The dead fit no longer holds its model.
    assert request_fit(sam).status == FitStatus.QUEUED


@pytest.mark.django_db(transaction=True)
def test_a_fit_pushes_each_stage_to_the_page_and_ends_with_the_new_version():
    import_fleet()
    sam = make_user(role="supervisor", username="sam")
    cookie = logged_in(sam).cookies[settings.SESSION_COOKIE_NAME].value
    run = fit_runs.fit_run_create(asset_type="motor", failure_mode=bearing(), user=sam)

    async def scenario() -> list[dict]:
        socket = communicator("/ws/health/fits/", cookie=cookie)
        assert (await socket.connect())[0]
        pushed = [await socket.receive_json_from(timeout=10)]
        await database_sync_to_async(fit_runs.fit_run_execute)(run_id=run.pk)
        while pushed[-1].get("type") != "fit.run" or pushed[-1]["run"]["under_way"]:
            pushed.append(await socket.receive_json_from(timeout=10))
        await socket.disconnect()
        return pushed

    snapshot, *pushed = asyncio.run(scenario())

    assert snapshot["type"] == "fit.snapshot"
    assert [(r["id"], r["status"], r["requested_by"]) for r in snapshot["runs"]] == [
        (run.pk, "queued", "sam")
    ]
    runs = [message["run"] for message in pushed]
    assert [r["revision"] for r in runs] == sorted({r["revision"] for r in runs})
    assert [r["percent"] for r in runs] == sorted(r["percent"] for r in runs)
    stages = list(dict.fromkeys(r["stage"] for r in runs))
    assert stages == [
        "starting",
        "loading",
        "regimes",
        "cross_validation",
        "final_fit",
        "calibration",
        "saving",
        "done",
    ]
    assert [r["stage_text"] for r in runs if r["stage"] == "cross_validation"] == [
        f"Testing on runs it has not seen (round {n} of 3)" for n in (1, 2, 3)
    ]
    assert 0 < runs[3]["percent"] < runs[-2]["percent"] < 100
    last = runs[-1]
    assert (last["status"], last["status_label"], last["percent"]) == ("succeeded", "Fitted", 100)
    assert last["result_text"].startswith(
        "Version 1 is now in use. It learned from 3 runs to failure (3 imported, 0 of our own "
        "machines); on runs it had not seen, its remaining life was off by "
    )
    assert last["elapsed_s"] > 0

    run.refresh_from_db()
    model = HealthModel.objects.get()
    assert (run.status, run.model, model.version, model.active) == ("succeeded", model, 1, True)
    assert run.result["cv_rmse_days"] == pytest.approx(model.summary["cv_rmse"] / 24, abs=0.01)
    assert run.started_at <= run.heartbeat_at <= run.finished_at


@pytest.mark.django_db(transaction=True)
def test_each_socket_words_a_pushed_fit_in_its_viewer_s_language():
    sam = make_user(role="supervisor", username="sam")
    session = f"{settings.SESSION_COOKIE_NAME}={logged_in(sam).cookies[settings.SESSION_COOKIE_NAME].value}"
    # A pump has no run to failure to learn from: the fit fails, saying so.
    run = fit_runs.fit_run_create(asset_type="pump", failure_mode=bearing(), user=sam)

    def socket(*headers: tuple[bytes, bytes]) -> WebsocketCommunicator:
        base = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
        return WebsocketCommunicator(application, "/ws/health/fits/", headers=base + list(headers))

    async def scenario() -> dict[str, list[dict]]:
        sockets = {
            "en": socket((b"cookie", session.encode())),
            "de": socket((b"cookie", f"{session}; {settings.LANGUAGE_COOKIE_NAME}=de".encode())),
            "es": socket((b"cookie", session.encode()), (b"accept-language", b"es-ES,es;q=0.9")),
        }
        seen: dict[str, list[dict]] = {}
        for language, each in sockets.items():
            assert (await each.connect())[0]
            seen[language] = (await each.receive_json_from(timeout=10))["runs"]
        await database_sync_to_async(fit_runs.fit_run_execute)(run_id=run.pk)
        for language, each in sockets.items():
            while seen[language][-1]["under_way"]:
                seen[language].append((await each.receive_json_from(timeout=10))["run"])
            await each.disconnect()
        return seen

    seen = asyncio.run(scenario())

    words = {
        language: [(r["status_label"], r["stage_text"], r["error"]) for r in runs]
        for language, runs in seen.items()
    }
    assert words["en"] == [
        ("Waiting for a worker", "Waiting for a worker", ""),
        ("Fitting", "Starting", ""),
        ("Fitting", "Reading the imported runs to failure", ""),
        (
            "Failed",
            "Reading the imported runs to failure",
            "No run to failure of a pump in mode bearing to learn from: record failures on "
            "assets or import histories.",
        ),
    ]
    assert words["de"] == [
        ("Wartet auf einen Worker", "Wartet auf einen Worker", ""),
        ("Wird angepasst", "Wird gestartet", ""),
        ("Wird angepasst", "Liest die importierten Läufe bis zum Ausfall", ""),
        (
            "Fehlgeschlagen",
            "Liest die importierten Läufe bis zum Ausfall",
            "Kein Lauf bis zum Ausfall vom Typ pump im Modus bearing, aus dem gelernt werden "
            "kann: Erfassen Sie Ausfälle an Anlagen oder importieren Sie Verläufe.",
        ),
    ]
    assert [label for label, _, _ in words["es"]] == [
        "Esperando a un worker",
        "Ajustando",
        "Ajustando",
        "Fallido",
    ]
    # The row keeps the codes and the English, whoever looks.
    run.refresh_from_db()
    assert (run.error_code, run.error_params) == (
        "no_runs",
        {"asset_type": "pump", "failure_mode": "bearing"},
    )
    assert run.error == words["en"][-1][2]


def test_the_page_words_a_fit_s_stage_and_failure_in_the_viewer_s_language():
    import_fleet(units=1)
    sam = make_user(role="supervisor", username="sam")
    run = request_fit(sam)
    now = timezone.now()
    FitRun.objects.filter(pk=run.pk).update(
        status=FitStatus.RUNNING,
        stage="cross_validation",
        stage_part=2,
        stage_parts=5,
        stage_text="Testing on runs it has not seen (round 2 of 5)",
        percent=37,
        heartbeat_at=now,
    )
    page = logged_in(sam)
    page.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"

    running = page.get(reverse("maintenance:model_health")).content.decode()

    assert ">Wird angepasst</strong>" in running
    assert ">Testet an Läufen, die es nicht kennt (Runde 2 von 5)</p>" in running
    assert ">Gestartet von sam</p>" in running
    assert ">Wird angepasst…</button>" in running

    fit_runs.fit_runs_expire(now=now + timedelta(seconds=settings.HEALTH_FIT_STALE_S + 1))
    page.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    failed = page.get(reverse("maintenance:model_health")).content.decode()

    assert ">Fallido</strong>" in failed
    assert (
        "El worker que hacía el ajuste dejó de responder al 37 %, durante «Probando con ciclos "
        "que no ha visto (ronda 2 de 5)» (reiniciado o sin memoria)."
    ) in failed
    assert 'data-idle-text="Ajustar"' in failed
    assert FitRun.objects.get(pk=run.pk).error.startswith(
        "The worker fitting it stopped answering at 37 %, while “Testing on runs it has not seen "
        "(round 2 of 5)”"
    )


def test_a_fit_s_result_reads_with_the_language_s_decimal_mark():
    result = {"version": 3, "n_units": 7, "imported_runs": 6, "own_runs": 1, "cv_rmse_days": 1.4}

    with translation.override("en"):
        assert selectors.fit_result_text(result) == (
            "Version 3 is now in use. It learned from 7 runs to failure (6 imported, 1 of our "
            "own machines); on runs it had not seen, its remaining life was off by 1.4 days (RMS)."
        )
    with translation.override("de"):
        assert selectors.fit_result_text(result) == (
            "Version 3 ist jetzt in Gebrauch. Es hat aus 7 Läufen bis zum Ausfall gelernt "
            "(6 importiert, 1 von unseren eigenen Maschinen); an Läufen, die es nicht kannte, "
            "lag seine Restlebensdauer um 1,4 Tage daneben (RMS)."
        )
    with translation.override("es"):
        assert selectors.fit_result_text(result | {"cv_rmse_days": None}) == (
            "La versión 3 ya está en uso. Aprendió de 7 ciclos hasta el fallo (6 importados, "
            "1 de nuestras propias máquinas)."
        )


def test_the_page_offers_supervisors_a_fit_of_each_model_and_of_fleets_not_yet_fitted():
    fitted_model()  # motor · bearing, version 1
    import_fleet(asset_type="pump", units=1)
    supervisor = logged_in(make_user(role="supervisor"))

    page = supervisor.get(reverse("maintenance:model_health"))

    groups = page.context["page"]["groups"]
    assert [(g["asset_type_code"], len(g["models"])) for g in groups] == [("motor", 1), ("pump", 0)]
    html = page.content.decode()
    assert html.count('data-role="fit-button"') == 2
    assert ">Fit again</button>" in html
    assert ">Fit</button>" in html
    assert "No version fitted yet" in html


def test_the_fit_button_answers_the_page_script_with_the_run_or_the_refusal():
    bearing()
    supervisor = logged_in(make_user(role="supervisor", username="sam"), enforce_csrf_checks=True)
    page = supervisor.get(reverse("maintenance:model_health"))
    token = page.context["csrf_token"]
    form = {"asset_type": "motor", "failure_mode": "bearing", "csrfmiddlewaretoken": str(token)}

    started = supervisor.post(FIT_URL, form, headers={"accept": "application/json"})
    again = supervisor.post(FIT_URL, form, headers={"accept": "application/json"})
    without_token = supervisor.post(FIT_URL, {"asset_type": "motor", "failure_mode": "bearing"})

    assert started.status_code == 202
    assert started.json()["run"]["status"] == "queued"
    assert again.status_code == 409
    assert again.json()["error"].startswith("Motor · Bearing degradation is already being fitted")
    assert without_token.status_code == 403
    assert FitRun.objects.count() == 1


def test_without_the_script_a_fit_goes_back_to_the_page_with_a_message():
    bearing()
    supervisor = logged_in(make_user(role="supervisor"))
    form = {"asset_type": "motor", "failure_mode": "bearing"}

    first = supervisor.post(FIT_URL, form, follow=True)
    second = supervisor.post(FIT_URL, form, follow=True)

    assert first.redirect_chain[-1][0] == reverse("maintenance:model_health")
    assert [str(m) for m in first.context["messages"]] == [
        "Fit started: it shows below as it runs."
    ]
    (refusal,) = [str(m) for m in second.context["messages"]]
    assert "is already being fitted" in refusal


@pytest.mark.parametrize("role", ["operator", "technician"])
def test_other_roles_cannot_post_a_fit(role):
    bearing()
    client = logged_in(make_user(role=role))
    response = client.post(FIT_URL, {"asset_type": "motor", "failure_mode": "bearing"})
    assert response.status_code == 403
    assert not FitRun.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_fits_socket_is_for_those_who_may_see_the_models():
    operator_cookie = (
        logged_in(make_user(role="operator")).cookies[settings.SESSION_COOKIE_NAME].value
    )

    async def scenario():
        socket = communicator("/ws/health/fits/", cookie=operator_cookie)
        connected = await socket.connect()
        await socket.disconnect()
        return connected

    assert asyncio.run(scenario())[0] is False


def test_the_command_line_fit_prints_its_stages_and_is_recorded_like_the_page_s():
    import_fleet()
    out = io.StringIO()

    call_command("health_fit", "--asset-type", "motor", "--cap-days", "5", stdout=out)

    lines = out.getvalue().splitlines()
    assert " 10 %  Finding the operating regimes" in lines
    assert re.fullmatch(
        r"fitted motor/bearing/v1 on 3 imported and 0 own runs in [\d.]+ s", lines[-1]
    )
    run = FitRun.objects.get()
    assert (run.requested_by, run.status, run.cap_days, run.model.version) == (
        None,
        "succeeded",
        5,
        1,
    )


def test_the_command_line_is_refused_while_the_page_s_fit_runs():
    request_fit(make_user(role="supervisor", username="sam"))
    with pytest.raises(CommandError, match="already being fitted: started by sam just now"):
        call_command("health_fit", "--asset-type", "motor")
