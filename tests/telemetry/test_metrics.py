"""Pipeline figures: /metrics for Prometheus and the pipeline-health page, fed by the processes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from plantops.telemetry import metrics
from tests.conftest import wait_for, wait_until_flowing
from tests.factories import make_asset, make_user, topic

pytestmark = [pytest.mark.services]

FIGURES = {
    "ingest": {
        "ingest-1": {
            "messages": 10.0,
            "readings": 9.0,
            "unacked": 3.0,
            "oldest_unacked_age_s": 0.25,
            "connected": 1.0,
        }
    },
    "worker": {
        "batches": 2.0,
        "readings_stored": 9.0,
        "rejected:invalid_json": 1.0,
        "latency_le:0.5": 1.0,
        "latency_le:1.0": 2.0,
        "latency_count": 2.0,
        "latency_sum": 1.1,
    },
    "queued_batches": 4,
}


def test_it_renders_prometheus_text():
    text = metrics.render_prometheus(FIGURES)
    assert 'plantops_ingest_messages_total{client_id="ingest-1"} 10' in text
    assert 'plantops_ingest_oldest_unacked_seconds{client_id="ingest-1"} 0.25' in text
    assert 'plantops_dead_letters_total{reason="invalid_json"} 1' in text
    assert 'plantops_batch_latency_seconds_bucket{le="0.5"} 1' in text
    assert 'plantops_batch_latency_seconds_bucket{le="+Inf"} 2' in text
    assert "plantops_queued_batches 4" in text
    assert "# TYPE plantops_batch_latency_seconds histogram" in text


@pytest.mark.django_db
def test_metrics_need_a_staff_login_or_the_token(client, settings):
    settings.METRICS_TOKEN = "scrape-me"
    assert client.get(reverse("metrics")).status_code == 403
    assert client.get(reverse("metrics"), HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get(reverse("metrics"), HTTP_AUTHORIZATION="Bearer scrape-me").status_code == 200
    client.force_login(make_user(username="gina"))
    assert client.get(reverse("metrics")).status_code == 403
    assert client.get(reverse("pipeline")).status_code == 302


@pytest.mark.django_db(transaction=True)
def test_figures_from_running_processes_reach_metrics_and_the_health_page(
    client, processes, publisher, settings
):
    settings.CELERY_TASK_DEFAULT_QUEUE = processes.env["CELERY_QUEUE"]
    asset = make_asset()
    processes.worker()
    processes.ingest(client_id="metrics-ingest")
    wait_until_flowing(publisher, asset)
    publisher.publish(topic(asset, "telemetry/vibration"), b"{broken")
    client.force_login(make_user(role="admin", username="hal"))

    def scraped() -> str:
        text = client.get(reverse("metrics")).content.decode()
        ready = (
            'plantops_ingest_messages_total{client_id="metrics-ingest"}' in text
            and "invalid_json" in text
        )
        return text if ready else ""

    text = wait_for(scraped, timeout=20, what="ingest and worker figures on /metrics")
    assert 'plantops_ingest_connected{client_id="metrics-ingest"} 1' in text
    assert "plantops_batch_latency_seconds_count" in text
    page = client.get(reverse("pipeline"))
    assert page.status_code == 200
    assert "metrics-ingest" in page.content.decode()
