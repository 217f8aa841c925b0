"""PlantOps settings: everything that differs between machines comes from the environment.

Every variable is listed in `.env.example`. A bad value stops the process at start with a
message naming the variable.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import csp.constants as csp
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue
from whitenoise.compress import Compressor

from plantops.env import (
    check_broker_url,
    check_redis_url,
    env_bool,
    env_file,
    env_float,
    env_int,
    env_list,
    env_str,
    is_amqp_url,
    parse_database_url,
    parse_mqtt_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it to a long random string, or DEBUG=1 for development."
        )
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    # Login lockout with back-off (plantops.core.lockout).
    "axes",
    "csp",
    # API v1's interactive docs from the package's own static files, not a CDN.
    "ninja",
    "plantops.core",
    "plantops.assets",
    "plantops.telemetry",
    "plantops.oee",
    "plantops.health",
    "plantops.maintenance",
    "plantops.alerts",
    "plantops.notify",
    "plantops.pipeline",
    "plantops.api",
    "plantops.floor",
    "plantops.simulator",
    "plantops.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise, which serves the static files compressed already: pages and JSON only.
    "plantops.core.compression.PageCompressionMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After the session, before anything that answers with words: the language chosen with the
    # top bar's switcher (its cookie), else the browser's Accept-Language, else English.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After the user is known: the zone their pages show times in (plantops.assets.clock).
    "plantops.assets.clock.ClockMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After the messages: a session signed out for idling says so on the login page.
    "plantops.core.sessions.IdleTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it answers a locked-out sign-in (plantops.core.lockout).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "plantops.urls"
ASGI_APPLICATION = "plantops.asgi.application"
WSGI_APPLICATION = "plantops.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "plantops.core.clock.clock",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

DATABASES = {
    "default": parse_database_url(
        env_str("DATABASE_URL", "sqlite:///var/plantops.sqlite3"), base_dir=BASE_DIR
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not memory, so tests that start real ingest and worker processes share it.
    DATABASES["default"]["TEST"] = {"NAME": VAR_DIR / "test.sqlite3"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# OWASP ASVS L2: at least 12 characters, not all digits, not a common password (Django's
# list of 20,000), not close to the user's name.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login lockout (django-axes, plantops.core.lockout): its backend first, so the admin's login
# and any other sign-in are refused while locked, without a password check.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own
AXES_COOLOFF_TIME = "plantops.core.lockout.cool_off"
AXES_LOCKOUT_CALLABLE = "plantops.core.lockout.locked_out"
# A success clears only that user's own failures (plantops.core.lockout.forget_failures):
# axes' own reset would also clear every failure from the same address, so anyone with a login
# could sign in between guesses at another account and never be locked out.
AXES_RESET_ON_SUCCESS = False
# Each failure expires after the cool-off in force when it was made, so a request with a
# short cool-off (a new name, a new address) cannot clear longer ones.
AXES_USE_ATTEMPT_EXPIRATION = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # the back-off counts a day's failures
AXES_VERBOSE = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "floor:overview"
LOGOUT_REDIRECT_URL = "login"

TIME_ZONE = "UTC"
USE_I18N = True
# Each language named in itself, as the switcher shows it. Catalogs: locale/<code>/LC_MESSAGES
# (docs/translations.md); numbers and dates follow the language too (Django's formats).
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("es", "Español")]
# The plant's language: its e-mails and chat messages, and the pages of a browser that asks for
# none of ours (a user's own choice, on My settings or the login page, wins on the pages).
LANGUAGE_CODE = env_str("LANGUAGE", "en")
if LANGUAGE_CODE not in dict(LANGUAGES):
    raise ImproperlyConfigured(
        f"LANGUAGE={LANGUAGE_CODE!r} is not one of PlantOps's languages: "
        + ", ".join(code for code, _ in LANGUAGES)
        + "."
    )
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 86400  # a tablet keeps its language
LANGUAGE_COOKIE_HTTPONLY = True  # scripts read the language from <html lang>
LANGUAGE_COOKIE_SAMESITE = "Lax"
USE_TZ = True

STATIC_URL = "/static/"
# collectstatic's output (the Docker image makes it at build; the tests, once per change of the
# files); a relative path is taken from the checkout.
STATIC_ROOT = BASE_DIR / env_str("STATIC_ROOT", "staticfiles")
# static/vendor/ holds plotly.js's basic bundle, fetched and checked against its pinned digest by
# scripts/vendor_plotly.py (scripts/bootstrap.sh, the Docker build): served locally, never from
# a CDN.
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Without DEBUG, pages name each file by its content (plotly-basic.min.d2ddbe006f2c.js), which
    # WhiteNoise serves with a year's immutable caching and as the gzip or brotli copy that
    # collectstatic made once. With DEBUG (the demo), the files as they are, from the finders.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# WhiteNoise warns when STATIC_ROOT is missing, as it is under DEBUG.
warnings.filterwarnings("ignore", message="No directory at")
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
# Only the fingerprinted names are kept: every page names those, and the collection (and its
# compression) takes half the time. Source maps are read by developers' tools only.
WHITENOISE_KEEP_ONLY_HASHED_FILES = True
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [*Compressor.SKIP_COMPRESS_EXTENSIONS, "map"]

# Uploads (work-order photos): served only through a view that checks who asks, never as
# public files. On more than one web server this must be shared storage.
MEDIA_ROOT = BASE_DIR / env_str("MEDIA_ROOT", "var/media")  # a relative path: from the checkout
MEDIA_URL = "/media/"
PHOTO_MAX_BYTES = env_int("PHOTO_MAX_BYTES", 15 * 1024 * 1024, minimum=1024)
# Any request body larger than a photo and its form is refused as it arrives (plantops.asgi).
UPLOAD_MAX_BYTES = PHOTO_MAX_BYTES + 1024 * 1024

SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 3600, minimum=60)  # one long shift
# A shared tablet signs out after this long without anyone using it (plantops.core.sessions).
# 0: none, for a plant whose screens are unattended wall displays.
SESSION_IDLE_TIMEOUT_S = env_int("SESSION_IDLE_TIMEOUT_S", 30 * 60, minimum=0)
if 0 < SESSION_IDLE_TIMEOUT_S < 60:
    raise ImproperlyConfigured("SESSION_IDLE_TIMEOUT_S is 0 (none) or at least 60 seconds.")
# How often an open socket checks that its session still holds (logout, idle, deactivated).
SESSION_RECHECK_S = env_float("SESSION_RECHECK_S", 60.0, minimum=0.1)
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts only from this site's own files, never inline
# and never eval. Styles may be inline: Plotly writes its stylesheet at run time, and a style
# cannot run code. Fetches and sockets go to this site only; nothing may frame a page.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF],
        "style-src": [csp.SELF, csp.UNSAFE_INLINE],
        "img-src": [csp.SELF, "data:", "blob:"],
        "font-src": [csp.SELF],
        "connect-src": [csp.SELF],
        "object-src": [csp.NONE],
        "base-uri": [csp.SELF],
        "form-action": [csp.SELF],
        "frame-ancestors": [csp.NONE],
    }
}

# --- HTTPS, on unless switched off ------------------------------------------------------------
# PlantOps is served over HTTPS by a TLS front (Caddy in docker/compose.yaml) that tells it so
# with X-Forwarded-Proto, set by the front itself, never passed on from the client. Cookies go
# over HTTPS only, plain HTTP is redirected, browsers remember it (HSTS). A plain-HTTP install
# (`make demo`, a lab bench) opts out explicitly with INSECURE_HTTP=1; DEBUG implies it.
INSECURE_HTTP = env_bool("INSECURE_HTTP", DEBUG)
if "SECURE_COOKIES" in os.environ:
    raise ImproperlyConfigured(
        "SECURE_COOKIES is gone: cookies are secure unless INSECURE_HTTP=1 (plain HTTP)."
    )
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_SSL_REDIRECT = not INSECURE_HTTP
LANGUAGE_COOKIE_SECURE = not INSECURE_HTTP
SECURE_PROXY_SSL_HEADER = None if INSECURE_HTTP else ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 0 if INSECURE_HTTP else env_int("SECURE_HSTS_SECONDS", 365 * 86400, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
# The lockout's per-address count reads REMOTE_ADDR. Behind the TLS front that is the client's
# address only because daphne runs with --proxy-headers (docker/compose.yaml) and the front
# replaces any X-Forwarded-For a client sent; without both, every sign-in would share the
# front's address.

# --- Redis: Channels layer (and the Celery broker unless CELERY_BROKER_URL names another) ----
REDIS_URL = check_redis_url(env_str("REDIS_URL", "redis://127.0.0.1:6379/0"))

CHANNEL_LAYERS = {
    "default": {
        # Redis pub/sub: a group message is published once and each web process hands it to
        # its own sockets, so one alert reaches 500 tablets with one Redis message per process
        # rather than one per socket. Nothing is queued for a socket that is away: pushes are
        # hints, and every screen catches up from the database when it reconnects.
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {
            # redis-py 8 times reads out after 5 s by default; 30 s still notices a dead Redis.
            "hosts": [{"address": REDIS_URL, "socket_timeout": 30}],
            "prefix": env_str("CHANNELS_PREFIX", "plantops"),
        },
    }
}

# --- Celery: batches from ingest to the workers, and the periodic tasks ----------------------
# Redis by default (`make demo`: one service fewer), RabbitMQ in production (docker/compose.yaml):
# only RabbitMQ closes every window in which a batch the ingest has acknowledged on MQTT could be
# lost (README, "The Celery broker"). Empty or unset: REDIS_URL. (Celery reads this variable
# itself too, before its settings: a second name could only disagree with it.)
CELERY_BROKER_URL = check_broker_url(env_str("CELERY_BROKER_URL", "") or REDIS_URL)
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "plantops")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
# A batch is acknowledged to the broker only after it is stored; a worker that dies mid-batch
# leaves it to be redelivered, and storing is idempotent.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Notifications leave through a queue of their own when this names one: the production
# compose's notifier consumes it, the one PlantOps process with a route out of the plant's
# network (SMTP, webhooks). Empty: the default queue, which every worker consumes.
NOTIFY_QUEUE = env_str("NOTIFY_QUEUE", "")
CELERY_TASK_ROUTES = {"notify.send": {"queue": NOTIFY_QUEUE}} if NOTIFY_QUEUE else {}
if is_amqp_url(CELERY_BROKER_URL):
    # A quorum queue: durable, replicated on a cluster, and a message a worker held when its
    # connection dropped (kill -9, OOM) goes back at once. It has no global QoS: Celery sees the
    # quorum queue and sets the prefetch per consumer. Countdowns (store_batch's retries, the
    # gateway syncs) go through RabbitMQ's delay queues ("native delayed delivery"), which need
    # the queue's exchange to be a topic exchange. The delivery limit is set so high it is
    # never reached: RabbitMQ 4 drops a message returned 20 times by default (20 workers killed
    # holding it), and RabbitMQ 3's way of saying "no limit", -1, drops it at the first return.
    CELERY_TASK_DEFAULT_QUEUE_TYPE = "quorum"
    CELERY_TASK_DEFAULT_EXCHANGE_TYPE = "topic"
    CELERY_WORKER_DETECT_QUORUM_QUEUES = True
    CELERY_TASK_QUEUES = [
        Queue(
            name,
            Exchange(name, type="topic"),
            routing_key=name,
            queue_arguments={"x-queue-type": "quorum", "x-delivery-limit": 1_000_000},
        )
        for name in dict.fromkeys(filter(None, [CELERY_TASK_DEFAULT_QUEUE, NOTIFY_QUEUE]))
    ]
    # Publisher confirms: apply_async (the ingest's hand-off) returns only once RabbitMQ has
    # the batch in the queue, and raises if it refused it; only then are the MQTT messages acked.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"confirm_publish": True}
else:
    # Redis has no acknowledgements of its own: kombu keeps a batch a worker took in an
    # "unacked" hash, and a batch held by a worker that died (kill -9, OOM) goes back on the
    # queue once it has been unacknowledged this long; Redis is swept for such batches every
    # 10 s. Storing is idempotent, so a short timeout costs at most a repeated store, while
    # kombu's default (1 h) would hold a dead worker's readings back for an hour. Keep it above
    # the longest retry countdown (30 s).
    # kombu locks each sweep, and a worker killed mid-sweep keeps the lock until it expires
    # (kombu's default: 5 minutes, in which no batch comes back); sweeps that overlap are safe.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT_S", 300, minimum=1),
        "unacked_restore_interval": 10,
        "unacked_restore_throttle": 1,
        "unacked_mutex_expire": 30,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery's Django fixup closes every database connection before and after each task unless
# this is set: each batch would then open a new PostgreSQL connection, a new server process
# whose cold caches cost more CPU than storing the batch. Connections are instead kept as
# Django keeps them for requests (DB_CONN_MAX_AGE, health-checked): see plantops/celery.py.
CELERY_DB_REUSE_MAX = 2**62
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- MQTT ingest ----------------------------------------------------------------------------
MQTT = parse_mqtt_url(env_str("MQTT_URL", "mqtt://127.0.0.1:1883"))
MQTT_TOPIC_ROOT = "plantops"
MQTT_SHARE_GROUP = env_str("MQTT_SHARE_GROUP", "plantops")
MQTT_CLIENT_ID = env_str("MQTT_CLIENT_ID", "plantops-ingest-1")
# TLS (an mqtts:// URL): the CA that signed the broker's certificate (empty: the system's
# trusted CAs), and this client's own certificate and key for a broker that asks for one.
MQTT_CA_FILE = env_file("MQTT_CA_FILE")
MQTT_CERT_FILE = env_file("MQTT_CERT_FILE")
MQTT_KEY_FILE = env_file("MQTT_KEY_FILE")
if bool(MQTT_CERT_FILE) != bool(MQTT_KEY_FILE):
    raise ImproperlyConfigured("MQTT_CERT_FILE and MQTT_KEY_FILE go together: set both or neither.")
MQTT_SESSION_EXPIRY_S = env_int("MQTT_SESSION_EXPIRY_S", 7 * 24 * 3600, minimum=0)
# The largest MQTT packet the broker may send the ingest (bytes, headers and topic included),
# sent as Maximum Packet Size in its CONNECT: an MQTT 5 broker discards a larger message for it.
# The wire contract's largest message carries 1 MiB (a batch of up to 10,000 readings); 4 MiB
# lets a message a little over that still arrive and be dead-lettered as payload_too_large.
# Less than 1 MiB plus room for a topic would silently lose messages the contract allows.
# Keep the broker's max_packet_size no larger, so a larger publish is refused to its publisher.
MQTT_MAX_PACKET_BYTES = env_int(
    "MQTT_MAX_PACKET_BYTES", 4 * 1024 * 1024, minimum=1024 * 1024 + 64 * 1024
)
if MQTT_MAX_PACKET_BYTES > 268_435_460:  # the largest packet MQTT can frame
    raise ImproperlyConfigured(
        f"MQTT_MAX_PACKET_BYTES={MQTT_MAX_PACKET_BYTES} is too large: MQTT packets stop at "
        "268435460 bytes."
    )

INGEST_BATCH_MAX_READINGS = env_int("INGEST_BATCH_MAX_READINGS", 10000, minimum=1)
INGEST_BATCH_MAX_AGE_S = env_float("INGEST_BATCH_MAX_AGE_S", 0.5, minimum=0.01)
TELEMETRY_RETENTION_DAYS = env_int("TELEMETRY_RETENTION_DAYS", 400, minimum=1)
TELEMETRY_MAX_FUTURE_S = 300
# Bearer token for Prometheus scraping /metrics without a login; empty: staff sessions only.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
# The API token `manage.py mcp` acts with over stdio (admin → API tokens); HTTP at /mcp takes
# each request's bearer token instead.
PLANTOPS_API_TOKEN = env_str("PLANTOPS_API_TOKEN", "")
DEAD_LETTER_RETENTION_DAYS = env_int("DEAD_LETTER_RETENTION_DAYS", 30, minimum=1)
# The longest an operator may shelve an alert (supervisors: each rule's own maximum).
ALERT_OPERATOR_MAX_SHELVE_S = env_int("ALERT_OPERATOR_MAX_SHELVE_S", 3600, minimum=60)
# A reading judged by the alert rules more than this long after its own time is late: its
# alerts say so, and a backlog pages nobody for what has already returned to normal. Well above
# the pipeline's own latency (batches of 0.5 s, retries up to 30 s), well below an outage.
ALERT_LATE_AFTER_S = env_float("ALERT_LATE_AFTER_S", 60.0, minimum=1.0)
# A line's OEE screens get at most one update this often, however many events arrive.
OEE_PUSH_EVERY_S = env_float("OEE_PUSH_EVERY_S", 3.0, minimum=0.1)
# An asset's tile (status, latest values) is pushed at most this often while data streams
# in, and at once on a state change; its chart gets every batch's readings.
FLOOR_TILE_PUSH_EVERY_S = env_float("FLOOR_TILE_PUSH_EVERY_S", 1.0, minimum=0.0)
# On RabbitMQ a push waits in its delay queues, which count whole seconds: Celery refuses a
# countdown between 0 and 1 s there, so such a push would never be scheduled.
for _push in ("OEE_PUSH_EVERY_S", "FLOOR_TILE_PUSH_EVERY_S"):
    if is_amqp_url(CELERY_BROKER_URL) and 0 < globals()[_push] < 1:
        raise ImproperlyConfigured(
            f"{_push}={globals()[_push]} is below 1 s, which RabbitMQ (CELERY_BROKER_URL) cannot "
            "delay a task by: use 0 or at least 1."
        )

# --- MQTT identities --------------------------------------------------------------------------
# The broker's dynamic-security administrator, mqtt://<user>:<password>@<host>:<port> (the client
# `mosquitto_ctrl dynsec init` creates). Through it PlantOps keeps each gateway's identity and the
# ingest's read-only role on the broker in step with the admin (plantops/telemetry/gateways.py).
# Empty: gateways are kept in the admin only and the broker is told nothing.
MQTT_ADMIN = (
    parse_mqtt_url(env_str("MQTT_ADMIN_URL", ""), variable="MQTT_ADMIN_URL")
    if env_str("MQTT_ADMIN_URL", "")
    else None
)
if MQTT_ADMIN is not None and not (MQTT_ADMIN.username and MQTT_ADMIN.password):
    raise ImproperlyConfigured(
        "MQTT_ADMIN_URL names no user or no password: use mqtt://<user>:<password>@<host>:<port>."
    )

# --- machine health and predictions ---------------------------------------------------------
# Plant seconds per wall-clock second. 1 on a real plant; the demo sets the simulator's
# speedup, so a 14-day learning period or a 20-day remaining life passes in hours.
PLANT_TIME_SCALE = env_float("PLANT_TIME_SCALE", 1.0, minimum=0.001)
# The anomaly detector learns each asset's regime baselines over this many plant days.
HEALTH_LEARNING_DAYS = env_float("HEALTH_LEARNING_DAYS", 14.0, minimum=0.01)
# One step of the remaining-life estimator's input, in plant seconds.
HEALTH_STEP_S = env_float("HEALTH_STEP_S", 3600.0, minimum=1.0)
# How often (wall seconds) beat turns new readings into features and judges every asset.
HEALTH_EVERY_S = env_float("HEALTH_EVERY_S", 300.0, minimum=1.0)
# How often (wall seconds) beat asks the fitted estimators for a new prediction per asset.
PREDICTION_EVERY_S = env_float("PREDICTION_EVERY_S", 3600.0, minimum=1.0)
# A fit started on the model-health page whose worker has not been heard from for this many
# seconds (it touches its row every sixth of it) has lost its worker: it is shown as failed.
HEALTH_FIT_STALE_S = env_float("HEALTH_FIT_STALE_S", 120.0, minimum=0.5)
# A fit still waiting for a worker after this many seconds was lost on the way: failed too.
HEALTH_FIT_QUEUED_S = env_float("HEALTH_FIT_QUEUED_S", 1800.0, minimum=1.0)

# --- notifications (plantops.notify) ----------------------------------------------------------
# The address people reach PlantOps at: every link in a notification starts with it.
SITE_URL = env_str("SITE_URL", "http://localhost:8000").rstrip("/")
# E-mail leaves through Django's mail backend: SMTP (smtp), or files in var/mail (file: the
# demo, which has no mail server), or the console (console).
_EMAIL_BACKENDS = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
}
_email_backend = env_str("EMAIL_BACKEND", "smtp")
if _email_backend not in _EMAIL_BACKENDS:
    raise ImproperlyConfigured(
        f"EMAIL_BACKEND={_email_backend!r}: use one of {', '.join(_EMAIL_BACKENDS)}."
    )
EMAIL_BACKEND = _EMAIL_BACKENDS[_email_backend]
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_HOST = env_str("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)  # STARTTLS
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS (STARTTLS) and EMAIL_USE_SSL exclude each other.")
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "PlantOps <plantops@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The right-hand side of every notification's Message-ID.
NOTIFY_MAIL_DOMAIN = env_str("NOTIFY_MAIL_DOMAIN", "plantops.invalid")
# An acknowledge link in a notification works once, for this long.
NOTIFY_ACK_LINK_MAX_AGE_S = env_int("NOTIFY_ACK_LINK_MAX_AGE_S", 24 * 3600, minimum=60)
# An alarm raised again within this long of a raise that was notified is not notified again.
NOTIFY_REPEAT_WINDOW_S = env_int("NOTIFY_REPEAT_WINDOW_S", 600, minimum=0)
# Tries per message (the first and its retries, 15 s, 1 min, 4 min, … apart; beat's sweep
# queues each retry when its time comes).
NOTIFY_MAX_ATTEMPTS = env_int("NOTIFY_MAX_ATTEMPTS", 6, minimum=1)
NOTIFY_RETRY_BASE_S = env_float("NOTIFY_RETRY_BASE_S", 15.0, minimum=0.1)
# A channel that failed this many messages in a row is failing: shown on the pipeline health
# page, and the admins get an e-mail.
NOTIFY_FAILING_AFTER = env_int("NOTIFY_FAILING_AFTER", 3, minimum=1)
# How often beat escalates, ends floods and picks up events a lost trigger left behind.
NOTIFY_SWEEP_EVERY_S = env_float("NOTIFY_SWEEP_EVERY_S", 15.0, minimum=1.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        # /mcp starts and stops a session manager per request (plantops.api.mcp_http).
        "mcp.server.streamable_http_manager": {"level": "WARNING"},
        # Failed sign-ins and lockouts only, not every attempt.
        "axes": {"level": "WARNING"},
    },
}
