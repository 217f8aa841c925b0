#!/usr/bin/env bash
# `make test` and `make bench`: prepare the real services and run the checks against them.
#
# Usage: scripts/test.sh          ruff check, ruff format --check, makemigrations --check, pytest
#        scripts/test.sh bench    every bench/*.py, in the same environment
#        scripts/test.sh bench bench/ingest.py   only the benchmarks named
#
# The tests run against PostgreSQL, Redis database 15, Mosquitto and RabbitMQ (started if
# missing, see scripts/services.sh) under names of their own (plantops-test, and a queue per
# test on RabbitMQ), so they never disturb a demo running on the same machine. The exit status
# is non-zero if any step failed; pytest's own status when pytest failed (5 when it collected
# no tests).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { printf '==> %s\n' "$*"; }

# Every variable plantops/settings.py reads, so nothing from the caller's shell leaks into a run.
SETTINGS_VARIABLES=(
    DATABASE_URL REDIS_URL CELERY_BROKER_URL MQTT_URL MQTT_ADMIN_URL MQTT_CA_FILE MQTT_CERT_FILE MQTT_KEY_FILE SECRET_KEY DEBUG ALLOWED_HOSTS CSRF_TRUSTED_ORIGINS
    CHANNELS_PREFIX CELERY_QUEUE MQTT_SHARE_GROUP MQTT_CLIENT_ID MQTT_SESSION_EXPIRY_S
    MQTT_MAX_PACKET_BYTES STATIC_ROOT
    INGEST_BATCH_MAX_READINGS INGEST_BATCH_MAX_AGE_S
    TELEMETRY_RETENTION_DAYS
    DEAD_LETTER_RETENTION_DAYS SESSION_COOKIE_AGE SESSION_IDLE_TIMEOUT_S SESSION_RECHECK_S LOGIN_FAILURE_LIMIT INSECURE_HTTP SECURE_HSTS_SECONDS LOG_LEVEL DB_CONN_MAX_AGE CELERY_VISIBILITY_TIMEOUT_S METRICS_TOKEN
    ALERT_OPERATOR_MAX_SHELVE_S ALERT_LATE_AFTER_S OEE_PUSH_EVERY_S FLOOR_TILE_PUSH_EVERY_S
    PLANT_TIME_SCALE HEALTH_LEARNING_DAYS HEALTH_STEP_S HEALTH_EVERY_S PREDICTION_EVERY_S
    SITE_URL EMAIL_BACKEND EMAIL_HOST EMAIL_PORT EMAIL_HOST_USER EMAIL_HOST_PASSWORD EMAIL_USE_TLS
    EMAIL_USE_SSL DEFAULT_FROM_EMAIL NOTIFY_MAIL_DOMAIN NOTIFY_ACK_LINK_MAX_AGE_S
    NOTIFY_REPEAT_WINDOW_S NOTIFY_MAX_ATTEMPTS NOTIFY_RETRY_BASE_S NOTIFY_FAILING_AFTER
    NOTIFY_SWEEP_EVERY_S NOTIFY_QUEUE
)

test_environment() {
    unset "${SETTINGS_VARIABLES[@]}"
    # The password is ignored where PostgreSQL trusts local connections.
    export DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/test
    export REDIS_URL=redis://127.0.0.1:6379/15
    export MQTT_URL=mqtt://127.0.0.1:1883
    export CHANNELS_PREFIX=plantops-test
    export CELERY_QUEUE=plantops-test
    export MQTT_SHARE_GROUP=plantops-test
    export SECRET_KEY=plantops-test-secret-key-not-for-production
    # The test servers speak plain HTTP on loopback (tests/core/test_deploy.py checks the
    # secure defaults in a process of their own).
    export INSECURE_HTTP=1
    # Threads of the socket tests must not keep connections open: the test database is dropped.
    export DB_CONN_MAX_AGE=0
    export DJANGO_SETTINGS_MODULE=plantops.settings
    export VIRTUAL_ENV="$ROOT/.venv" PATH="$ROOT/.venv/bin:$PATH"
}

FAILED=()
PYTEST_STATUS=0

# Run one step, remember whether it failed, and carry on with the next.
step() {
    local title=$1
    shift
    say "$title"
    local status=0
    "$@" || status=$?
    if ((status != 0)); then
        FAILED+=("$title (exit $status)")
    fi
    return 0
}

run_tests() {
    # RabbitMQ: the hand-off fault tests run on it (tests/pipeline/test_handoff_kills.py).
    scripts/services.sh redis mosquitto postgres rabbitmq chromium
    step "ruff check ." ruff check .
    step "ruff format --check ." ruff format --check .
    step "makemigrations --check" python manage.py makemigrations --check --dry-run
    say "pytest"
    # pytest last, so its summary line closes the output; exit 5 (no tests collected) fails too.
    # A worker per core (at most 4), each a plant of its own (tests/environment.py); most tests
    # wait on processes, brokers and browsers, so two cores finish in little over half the time.
    # `--dist load` hands each worker its tests in collection order, which keeps pytest-django's:
    # a transactional test flushes the tables (the rows data migrations seed too), so none may
    # run before a test that reads those rows. Work stealing would break that order.
    pytest -n "${PYTEST_WORKERS:-auto}" --maxprocesses=4 --dist load --durations=15 ||
        PYTEST_STATUS=$?
    if ((PYTEST_STATUS != 0)); then
        FAILED+=("pytest (exit $PYTEST_STATUS)")
    fi
    if ((${#FAILED[@]} > 0)); then
        printf 'FAILED: %s\n' "${FAILED[@]}" >&2
        ((PYTEST_STATUS != 0)) && exit "$PYTEST_STATUS"
        exit 1
    fi
}

run_benches() {
    shopt -s nullglob
    local benches=("$@") bench
    ((${#benches[@]} > 0)) || benches=(bench/*.py)
    if ((${#benches[@]} == 0)); then
        say "no benchmarks in bench/ yet: nothing to run"
        return
    fi
    scripts/services.sh redis mosquitto postgres rabbitmq
    for bench in "${benches[@]}"; do
        step "$bench" python "$bench"
    done
    if ((${#FAILED[@]} > 0)); then
        printf 'FAILED: %s\n' "${FAILED[@]}" >&2
        exit 1
    fi
}

main() {
    scripts/bootstrap.sh
    test_environment
    case "${1:-test}" in
        test) run_tests ;;
        bench)
            shift || true
            run_benches "$@"
            ;;
        *)
            echo "usage: scripts/test.sh [test | bench [bench/NAME.py ...]]" >&2
            exit 2
            ;;
    esac
}

main "$@"
