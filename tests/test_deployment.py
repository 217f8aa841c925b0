"""The production deployment's zones and conduits (docker/compose.yaml, docker/mosquitto.conf):
machines reach only the broker, over TLS; browsers reach only the TLS front; everything else
sits on a network with no way in or out, and no service starts with a guessable password."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

DOCKER = Path(__file__).resolve().parent.parent / "docker"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())


def published(service: dict) -> set[str]:
    return {str(port).split(":")[-1] for port in service.get("ports", [])}


def test_only_the_broker_over_tls_and_the_tls_front_are_published(compose):
    ports = {name: published(s) for name, s in compose["services"].items() if s.get("ports")}
    assert ports == {"mosquitto": {"8883"}, "caddy": {"443", "80"}}


def test_the_broker_and_the_front_are_each_on_one_conduit_and_the_rest_is_internal(compose):
    networks = compose["networks"]
    assert networks["internal"] == {"internal": True}
    services = compose["services"]
    assert set(services["mosquitto"]["networks"]) == {"machines", "internal"}
    assert set(services["caddy"]["networks"]) == {"front", "internal"}
    for name in ("postgres", "redis", "rabbitmq", "web", "ingest", "worker", "beat", "migrate"):
        assert services[name]["networks"] == ["internal"], name
    # Notifications leave from the notifier alone, which consumes only their queue.
    assert set(services["notifier"]["networks"]) == {"internal", "outbound"}
    assert networks["outbound"] in ({}, None)
    queue = compose["x-plantops"]["environment"]["NOTIFY_QUEUE"]
    command = services["notifier"]["command"]
    assert command[command.index("-Q") + 1] == queue
    worker = services["worker"]["command"]
    assert worker[worker.index("-X") + 1] == queue


def test_no_password_has_a_default_and_redis_asks_for_one(compose):
    text = (DOCKER / "compose.yaml").read_text()
    for variable in (
        "POSTGRES_PASSWORD",
        "REDIS_PASSWORD",
        "RABBITMQ_PASSWORD",
        "MQTT_ADMIN_PASSWORD",
    ):
        assert re.search(rf"\${{{variable}:\?", text), variable
        assert not re.search(rf"\${{{variable}:-", text), variable
    redis = compose["services"]["redis"]
    assert "--requirepass" in " ".join(redis["command"])
    assert "REDIS_PASSWORD" in compose["x-plantops"]["environment"]["REDIS_URL"]


def test_plantops_talks_to_the_broker_over_tls_with_the_plant_ca(compose):
    environment = compose["x-plantops"]["environment"]
    assert environment["MQTT_URL"].startswith("mqtts://")
    assert environment["MQTT_URL"].endswith("@mosquitto:8883")
    assert compose["x-mqtt-admin-url"].startswith("mqtts://")
    assert environment["MQTT_CA_FILE"] == "/certs/ca.crt"


def test_the_broker_refuses_anonymous_clients_and_keeps_plain_mqtt_to_itself():
    conf = (DOCKER / "mosquitto.conf").read_text()
    directives = [line.split() for line in conf.splitlines() if line and not line.startswith("#")]
    listeners = [d[1:] for d in directives if d[0] == "listener"]
    assert listeners == [["1883", "127.0.0.1"], ["8883"]]
    assert ["allow_anonymous", "false"] in directives
    assert any(d[0] == "certfile" for d in directives)
    assert any(d[0] == "max_packet_size" for d in directives)


def test_the_web_is_served_through_the_tls_front_only(compose):
    web = compose["services"]["web"]
    assert "ports" not in web
    assert "--proxy-headers" in web["command"]
    caddyfile = (DOCKER / "Caddyfile").read_text()
    assert "reverse_proxy web:8000" in caddyfile
    assert "tls {$PLANTOPS_TLS}" in caddyfile


def test_each_secret_reaches_only_the_services_that_use_it(compose):
    # The containers get the repository's .env; compose's own secrets live in docker/.env.
    settings_file = (DOCKER.parent / ".env.example").read_text()
    for variable in (
        "POSTGRES_PASSWORD",
        "REDIS_PASSWORD",
        "RABBITMQ_PASSWORD",
        "MQTT_ADMIN_PASSWORD",
    ):
        assert not re.search(rf"(?m)^{variable}=", settings_file), variable
        assert re.search(rf"(?m)^{variable}=", (DOCKER / "env.example").read_text()), variable
    with_admin = {
        name
        for name, service in compose["services"].items()
        if "MQTT_ADMIN_URL" in (service.get("environment") or {})
    }
    assert with_admin == {"web", "worker", "broker-identities"}
    # The plant CA's key is in docker/ca/, which no container mounts.
    mounts = [v for s in compose["services"].values() for v in s.get("volumes", [])]
    assert not [m for m in mounts if "ca/" in str(m).split(":")[0] or "ca.key" in str(m)]
    assert "./site:/site:ro" in compose["services"]["caddy"]["volumes"]


def test_celery_hands_batches_over_rabbitmq_and_the_channels_layer_stays_on_redis(compose):
    environment = compose["x-plantops"]["environment"]
    broker = environment["CELERY_BROKER_URL"]
    assert broker.startswith("amqp://plantops:${RABBITMQ_PASSWORD:?")
    assert broker.endswith("@rabbitmq:5672/plantops")
    assert environment["REDIS_URL"].endswith("@redis:6379/0")
    services = compose["services"]
    # ingest, worker and beat (and web, which sends tasks too) all get the broker's address,
    # and none of them starts before RabbitMQ answers.
    for name in ("ingest", "worker", "beat", "web"):
        service = services[name]
        assert service.get("environment", environment)["CELERY_BROKER_URL"] == broker, name
        assert service["depends_on"]["rabbitmq"] == {"condition": "service_healthy"}, name


def test_rabbitmq_keeps_its_queues_across_restarts_and_asks_for_a_password(compose):
    rabbitmq = compose["services"]["rabbitmq"]
    # The node's name comes from the hostname, and its data directory from the node's name.
    assert rabbitmq["hostname"] == "rabbitmq"
    assert "rabbitmq-data:/var/lib/rabbitmq" in rabbitmq["volumes"]
    assert "rabbitmq-data" in compose["volumes"]
    assert rabbitmq["environment"]["RABBITMQ_DEFAULT_PASS"].startswith("${RABBITMQ_PASSWORD:?")
    assert rabbitmq["environment"]["RABBITMQ_DEFAULT_VHOST"] == "plantops"
    assert "ports" not in rabbitmq
    assert "healthcheck" in rabbitmq
