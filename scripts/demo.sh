#!/usr/bin/env bash
# Run the whole PlantOps demo on this machine: `make demo`.
#
# Prepares .venv, Redis and Mosquitto, migrates the embedded SQLite database (var/), seeds the
# demo plant and its users, then runs web, ingest, worker, beat and the plant simulator together
# through scripts/procs.py until Ctrl-C (or until one of them dies).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PORT="${PORT:-8000}"
# Only this machine reaches the demo, unless LAN=1 lets tablets on the network in.
LAN="${LAN:-0}"
BIND=127.0.0.1
[[ $LAN == 1 ]] && BIND=0.0.0.0
SPEEDUP=120
PY="$ROOT/.venv/bin/python"

say() { printf '==> %s\n' "$*"; }

# This machine's own addresses (IPv4 and IPv6), so a tablet on the LAN can connect.
own_addresses() {
    hostname -I 2>/dev/null | tr ' ' '\n' | grep -v '^$' || true
}

configure_environment() {
    # The demo keeps its data in the embedded SQLite database under var/.
    unset DATABASE_URL
    # DEBUG also serves the static files as they are in static/ (scripts/bootstrap.sh fetched
    # plotly.js into it): no collectstatic step, and an edited script shows on the next load.
    export DEBUG=1
    local hosts="localhost,127.0.0.1,[::1]" name address
    name="$(hostname 2>/dev/null || true)"
    if [[ -n $name ]]; then
        hosts+=",$name,$name.local" # .local: the name mDNS gives this machine on the LAN
    fi
    while read -r address; do
        [[ -z $address ]] && continue
        if [[ $address == *:* ]]; then
            hosts+=",[$address]"
        else
            hosts+=",$address"
        fi
    done < <(own_addresses)
    export ALLOWED_HOSTS="${ALLOWED_HOSTS:+$ALLOWED_HOSTS,}$hosts"
    # The simulator runs plant time SPEEDUP times faster: the health model counts in plant
    # time, learns each machine's normal over one plant day (12 wall minutes) and judges
    # every plant hour (30 wall seconds).
    export PLANT_TIME_SCALE="$SPEEDUP" HEALTH_LEARNING_DAYS=1 HEALTH_EVERY_S=30 PREDICTION_EVERY_S=60
    # Notifications: the demo has no mail server, so its e-mails are written to files in
    # var/mail/; their links point at this demo.
    export EMAIL_BACKEND=file SITE_URL="${SITE_URL:-http://localhost:$PORT}"
    say "ALLOWED_HOSTS=$ALLOWED_HOSTS"
}

prepare_database() {
    mkdir -p var
    say "migrating the demo database (var/plantops.sqlite3)"
    "$PY" manage.py migrate --noinput
    say "seeding the demo plant"
    "$PY" manage.py seed_demo_plant
    say "creating the demo users"
    DEMO_USERS="$("$PY" manage.py create_demo_users)"
    # Every screen has a story on first open: 90 days of the plant at work, stored through the
    # pipeline up to now (once; a plant with data keeps its own). It fits the conveyors' first
    # remaining-life model on a simulated fleet at its start.
    say "giving the plant its past: 90 days up to now (once, under three minutes)"
    "$PY" manage.py seed_demo_history
    # A new plant has no failures of its own to learn remaining life from: start the conveyors'
    # model from simulated ones, sampled as the simulator below samples (0.5 s × SPEEDUP).
    say "fitting the conveyors' remaining-life model on a simulated fleet (if it has none yet)"
    "$PY" manage.py health_simulate_fleet --asset-type conveyor --units 20 --sample-s 60 \
        --life-days 4:12 --fit --if-missing
    printf '%s\n' "$DEMO_USERS"
}

banner() {
    local address
    echo "PlantOps demo: http://localhost:$PORT/ (plain HTTP, demo users: not for production)"
    if [[ $LAN == 1 ]]; then
        while read -r address; do
            [[ -n $address && $address != *:* ]] && echo "  on the LAN:  http://$address:$PORT/"
        done < <(own_addresses)
    else
        echo "  only this machine can reach it; LAN=1 make demo lets tablets on the network in"
    fi
    printf '%s\n' "$DEMO_USERS"
    echo "  notification e-mails are written to var/mail/, one file per message"
    echo "Ctrl-C stops everything."
}

main() {
    scripts/bootstrap.sh
    configure_environment
    scripts/services.sh redis mosquitto
    prepare_database
    say "starting web, ingest, worker, beat and the simulator"
    # The venv first on PATH: the commands below, and anything they start, use its tools.
    export VIRTUAL_ENV="$ROOT/.venv" PATH="$ROOT/.venv/bin:$PATH"
    # exec: procs.py receives Ctrl-C and SIGTERM itself and stops every process cleanly.
    PROCS_BANNER="$(banner)" exec python scripts/procs.py \
        web="daphne -b $BIND -p $PORT plantops.asgi:application" \
        ingest="python manage.py ingest_mqtt" \
        worker="celery -A plantops worker -l info --concurrency 2" \
        beat="celery -A plantops beat -l info -s var/celerybeat-schedule" \
        simulator="python manage.py simulate_plant --speedup $SPEEDUP --interval 0.5 --fault transfer-conveyor-1:bearing:6@1.5"
}

main "$@"
