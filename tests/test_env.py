"""Settings from the environment: URLs parsed into what Django, Celery and paho need."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from plantops.env import parse_database_url, parse_mqtt_url, redacted


def test_a_relative_sqlite_url_lands_under_the_project_in_wal_mode():
    db = parse_database_url("sqlite:///var/plant.sqlite3", base_dir=Path("/srv/plantops"))
    assert db["NAME"] == Path("/srv/plantops/var/plant.sqlite3")
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]
    assert parse_database_url("sqlite:////data/p.sqlite3", base_dir=Path("/x"))["NAME"] == Path(
        "/data/p.sqlite3"
    )


def test_a_postgres_url_gives_every_connection_field():
    db = parse_database_url("postgres://plant:p%40ss@db.local:6543/plantops", base_dir=Path("/x"))
    assert (db["ENGINE"], db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "django.db.backends.postgresql",
        "plantops",
        "plant",
        "p@ss",
        "db.local",
        "6543",
    )


def test_an_mqtt_url_gives_credentials_and_the_tls_default_port():
    plain = parse_mqtt_url("mqtt://gateway:secret@broker:1884")
    assert (plain.host, plain.port, plain.username, plain.password, plain.tls) == (
        "broker",
        1884,
        "gateway",
        "secret",
        False,
    )
    assert parse_mqtt_url("mqtts://broker").port == 8883


@pytest.mark.parametrize("url", ["http://broker", "mqtt://", "mqtt://broker:notaport"])
def test_a_bad_mqtt_url_is_refused(url):
    with pytest.raises(ImproperlyConfigured):
        parse_mqtt_url(url)


def test_passwords_are_hidden_in_messages():
    assert redacted("postgres://plant:s3cret@db/x") == "postgres://plant:***@db/x"
    assert redacted("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def language_of_a_start(language: str) -> subprocess.CompletedProcess:
    """Settings loaded in a fresh process with LANGUAGE=`language`: the site language it took."""
    env = dict(os.environ, LANGUAGE=language, DJANGO_SETTINGS_MODULE="plantops.settings")
    return subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.LANGUAGE_CODE)"],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_plant_s_language_comes_from_the_environment_and_an_unknown_one_stops_the_start():
    german = language_of_a_start("de")
    assert german.returncode == 0, german.stderr
    assert german.stdout.strip() == "de"

    french = language_of_a_start("fr")
    assert french.returncode != 0
    assert "LANGUAGE='fr' is not one of PlantOps's languages: en, de, es." in french.stderr
