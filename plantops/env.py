"""Typed readers for environment variables that fail loudly, naming the variable and the fix."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a boolean: use one of 1/0, true/false, yes/no."
    )


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is too small: it must be at least {minimum}.")
    return value


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is too small: it must be at least {minimum}.")
    return value


def env_file(name: str) -> str:
    """A path to a file that must exist, or "" when unset."""
    path = os.environ.get(name, "").strip()
    if path and not Path(path).is_file():
        raise ImproperlyConfigured(f"{name}={path!r}: no such file.")
    return path


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def redacted(url: str) -> str:
    """Return the URL with its password replaced, for error messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)


def parse_database_url(url: str, *, base_dir: Path) -> dict:
    """Return a Django DATABASES entry for a `sqlite:///path` or `postgres://…` URL."""
    parts = urlsplit(url)
    url = redacted(url)  # from here on `url` is only quoted in messages
    if parts.scheme == "sqlite":
        # sqlite:///var/x.sqlite3 is relative to the project; sqlite:////abs/path is absolute.
        raw_path = parts.path[1:] if parts.path.startswith("/") else parts.path
        if not raw_path:
            raise ImproperlyConfigured(
                f"DATABASE_URL={url!r} names no file: use sqlite:///var/x.sqlite3."
            )
        path = Path(raw_path)
        if not path.is_absolute():
            path = base_dir / path
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": path,
            "OPTIONS": {
                # WAL lets the web process read while a worker writes; IMMEDIATE avoids the
                # "database is locked" error a deferred transaction hits when it upgrades to write.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
            },
        }
    if parts.scheme in {"postgres", "postgresql", "pgsql"}:
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ImproperlyConfigured(f"DATABASE_URL={url!r} names no database: add /<dbname>.")
        try:
            port = parts.port
        except ValueError:
            raise ImproperlyConfigured(f"DATABASE_URL={url!r} has a bad port.") from None
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(port or ""),
            "CONN_MAX_AGE": env_int("DB_CONN_MAX_AGE", 60, minimum=0),
            "CONN_HEALTH_CHECKS": True,
            # The statements of every stored batch are prepared after a few runs (core.db).
            "OPTIONS": {"prepare_threshold": 5},
        }
    raise ImproperlyConfigured(
        f"DATABASE_URL={url!r} is not supported: use sqlite:///<path> or postgres://user@host:port/db."
    )


@dataclass(frozen=True)
class MqttSettings:
    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool


def parse_mqtt_url(url: str, *, variable: str = "MQTT_URL") -> MqttSettings:
    """Parse `mqtt://user:pass@host:port` (or `mqtts://` for TLS) into connection settings.

    `variable` names the setting in error messages.
    """
    parts = urlsplit(url)
    url = redacted(url)  # from here on `url` is only quoted in messages
    if parts.scheme not in {"mqtt", "mqtts"}:
        raise ImproperlyConfigured(
            f"{variable}={url!r} must start with mqtt:// or mqtts:// (e.g. mqtt://127.0.0.1:1883)."
        )
    if not parts.hostname:
        raise ImproperlyConfigured(f"{variable}={url!r} names no host.")
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured(f"{variable}={url!r} has a bad port.") from None
    tls = parts.scheme == "mqtts"
    return MqttSettings(
        host=parts.hostname,
        port=port or (8883 if tls else 1883),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        tls=tls,
    )


def check_broker_url(url: str) -> str:
    """CELERY_BROKER_URL: Redis (redis://, rediss://, unix://) or RabbitMQ (amqp://, amqps://)."""
    if urlsplit(url).scheme not in {"redis", "rediss", "unix", "amqp", "amqps"}:
        raise ImproperlyConfigured(
            f"CELERY_BROKER_URL={redacted(url)!r} must start with amqp:// or amqps:// (RabbitMQ, "
            "e.g. amqp://user:password@127.0.0.1:5672/vhost) or redis:// (the default: REDIS_URL)."
        )
    return url


def is_amqp_url(url: str) -> bool:
    return urlsplit(url).scheme in {"amqp", "amqps"}


def check_redis_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in {"redis", "rediss", "unix"}:
        raise ImproperlyConfigured(
            f"REDIS_URL={redacted(url)!r} must start with redis://, rediss:// or unix:// "
            "(e.g. redis://127.0.0.1:6379/0)."
        )
    return url
