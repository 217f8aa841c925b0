#!/usr/bin/env bash
# Make sure the services PlantOps needs are there: use a running one, or start a local one.
#
# Usage: scripts/services.sh SERVICE...   SERVICE is redis, mosquitto, postgres, rabbitmq or chromium
#        scripts/services.sh stop         stop the Redis and Mosquitto this script started
#
# Where to look comes from REDIS_URL, MQTT_URL and DATABASE_URL (defaults as in
# plantops/settings.py; PostgreSQL defaults to the `make test` database), and for RabbitMQ from
# CELERY_BROKER_URL when it is an amqp:// URL, else TEST_RABBITMQ_URL (the tests' own; default
# amqp://guest:guest@127.0.0.1:5672//). A server that accepts a TCP connection there is used as
# it is. Otherwise, when that address is on this machine, the Debian package is installed if
# missing and a server is started: Redis and Mosquitto with project-owned config and data under
# var/, PostgreSQL and RabbitMQ as the packaged servers. Logs go to var/log/. The servers keep
# running afterwards, so the next run finds them and moves on.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VAR="$ROOT/var"
LOG_DIR="$VAR/log"
PY="$(command -v python3 || command -v python3.13 || command -v python3.12 || command -v python3.11 || true)"
START_TIMEOUT_S=20
APT_UPDATED=0
export DEBIAN_FRONTEND=noninteractive
# Debian keeps daemons in /usr/sbin, which a non-root PATH may lack.
export PATH="$PATH:/usr/sbin:/sbin"

say() { printf '==> %s\n' "$*"; }
die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

usage() {
    sed -n '4,5s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 2
}

# --- helpers ---------------------------------------------------------------------------------

# Run a command as root: directly when we are root, through sudo otherwise.
as_root() {
    if [[ $EUID -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo "$@"
    else
        die "need root to run: $*"
    fi
}

# Run a command as the OS user $1 (used for `postgres`, which logs in over its socket by peer).
as_user() {
    local user=$1
    shift
    if [[ $EUID -eq 0 ]]; then
        (cd / && runuser -u "$user" -- "$@")
    else
        (cd / && sudo -u "$user" -- "$@")
    fi
}

apt_install() {
    command -v apt-get >/dev/null ||
        die "the packages $* are missing and there is no apt-get here: install them by hand"
    say "installing Debian packages: $*"
    if [[ $APT_UPDATED -eq 0 ]]; then
        as_root apt-get update || say "warning: apt-get update failed; trying the package lists we have"
        APT_UPDATED=1
    fi
    as_root apt-get install -y "$@" </dev/null
}

# Print shell assignments (scheme host port user password path) for the URL $1; $2 is the
# port to assume when the URL names none. Used as: eval "$(url_fields URL PORT)".
url_fields() {
    "$PY" - "$1" "$2" <<'EOF'
import shlex
import sys
from urllib.parse import unquote, urlsplit

parts = urlsplit(sys.argv[1])
fields = {
    "scheme": parts.scheme,
    "host": parts.hostname or "127.0.0.1",
    "port": str(parts.port or sys.argv[2]),
    "user": unquote(parts.username or ""),
    "password": unquote(parts.password or ""),
    "path": unquote(parts.path),
}
print(" ".join(f"{name}={shlex.quote(value)}" for name, value in fields.items()))
EOF
}

# True when something accepts a TCP connection at host $1, port $2 (every address it resolves to).
tcp_open() {
    "$PY" - "$1" "$2" <<'EOF'
import socket
import sys

try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2).close()
except OSError:
    sys.exit(1)
EOF
}

is_this_machine() {
    case "$1" in
        localhost | 127.* | ::1) return 0 ;;
        *) return 1 ;;
    esac
}

# True while process $1 exists and is not a zombie.
alive() {
    [[ -r /proc/$1/stat ]] || return 1
    local state
    state="$(sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f1)"
    [[ $state != Z ]]
}

# Wait until NAME ($1) answers at host $2, port $3; on failure show its log ($4) and stop.
# $5, optional, is its pid: give up at once if it exits.
wait_for_port() {
    local name=$1 host=$2 port=$3 log=$4 pid=${5:-}
    local deadline=$((SECONDS + START_TIMEOUT_S))
    until tcp_open "$host" "$port"; do
        if ((SECONDS >= deadline)) || { [[ -n $pid ]] && ! alive "$pid"; }; then
            printf 'error: %s did not come up at %s:%s. The end of %s:\n' "$name" "$host" "$port" "$log" >&2
            tail -n 20 "$log" >&2 || true
            exit 1
        fi
        sleep 0.2
    done
}

# Stop the process whose pid is in file $2 if it is still the `$1` we started.
stop_pidfile() {
    local name=$1 file=$2 pid
    [[ -f $file ]] || return 0
    pid="$(<"$file")"
    if alive "$pid" && [[ "$(cat "/proc/$pid/comm")" == "$name"* ]]; then
        say "stopping $name (pid $pid)"
        kill -TERM "$pid"
        local deadline=$((SECONDS + 10))
        while alive "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
        if alive "$pid"; then
            kill -KILL "$pid"
        fi
    fi
    rm -f "$file"
}

# --- Redis -----------------------------------------------------------------------------------

ensure_redis() {
    local scheme host port user password path
    eval "$(url_fields "${REDIS_URL:-redis://127.0.0.1:6379/0}" 6379)"
    if [[ $scheme == unix ]]; then
        [[ -S $path ]] || die "redis: no socket at $path (REDIS_URL): start Redis there"
        say "redis: using the server at unix:$path"
        return
    fi
    if tcp_open "$host" "$port"; then
        say "redis: using the server at $host:$port"
        return
    fi
    is_this_machine "$host" ||
        die "redis: nothing answers at $host:$port (REDIS_URL) and that is not this machine"
    if ! command -v redis-server >/dev/null; then
        apt_install redis-server
        if tcp_open "$host" "$port"; then
            say "redis: the package started a server at $host:$port; using it"
            return
        fi
    fi
    say "redis: nothing at $host:$port; starting one (data in var/redis, log in var/log/redis.log)"
    mkdir -p "$VAR/redis" "$LOG_DIR"
    # Append-only file plus the default snapshots: demo data survives a restart of the machine.
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$port" \
        --dir "$VAR/redis" --appendonly yes \
        --pidfile "$VAR/redis/redis.pid" --logfile "$LOG_DIR/redis.log" </dev/null
    wait_for_port redis "$host" "$port" "$LOG_DIR/redis.log"
    say "redis: started on 127.0.0.1:$port (pid $(cat "$VAR/redis/redis.pid" 2>/dev/null || echo '?'))"
}

# --- Mosquitto -------------------------------------------------------------------------------

# Print the user the broker should drop to when started as root: `mosquitto` when that user
# exists and can write its directory and log (after a chown), else `root`.
mosquitto_run_as() {
    local dir=$1 log=$2
    if [[ $EUID -ne 0 ]]; then
        id -un # `user` is ignored when not started as root
        return
    fi
    if id mosquitto >/dev/null 2>&1; then
        chown -R mosquitto: "$dir" "$log"
        if runuser -u mosquitto -- test -w "$dir" -a -w "$log" 2>/dev/null; then
            echo mosquitto
            return
        fi
        say "mosquitto: user mosquitto cannot reach $dir (a parent directory is closed to it); running the broker as root" >&2
    fi
    echo root
}

ensure_mosquitto() {
    local scheme host port user password path
    eval "$(url_fields "${MQTT_URL:-mqtt://127.0.0.1:1883}" 1883)"
    if tcp_open "$host" "$port"; then
        say "mosquitto: using the broker at $host:$port"
        return
    fi
    is_this_machine "$host" ||
        die "mosquitto: nothing answers at $host:$port (MQTT_URL) and that is not this machine"
    if ! command -v mosquitto >/dev/null; then
        apt_install mosquitto
        if tcp_open "$host" "$port"; then
            say "mosquitto: the package started a broker at $host:$port; using it"
            return
        fi
    fi
    local dir="$VAR/mosquitto" log="$LOG_DIR/mosquitto.log" conf="$VAR/mosquitto/mosquitto.conf"
    say "mosquitto: nothing at $host:$port; starting one (config scripts/mosquitto.conf, data in var/mosquitto, log in var/log/mosquitto.log)"
    mkdir -p "$dir" "$LOG_DIR"
    touch "$log"
    local run_as
    run_as="$(mosquitto_run_as "$dir" "$log")"
    sed -e "s|^listener 1883 |listener $port |" \
        -e "s|^persistence_location var/|persistence_location $VAR/|" \
        -e "s|^log_dest file var/|log_dest file $VAR/|" \
        -e "s|^user .*|user $run_as|" \
        "$ROOT/scripts/mosquitto.conf" >"$conf"
    # setsid: its own session, so Ctrl-C in this terminal never reaches it; no `-d`, so the
    # pid we record is the broker's own.
    setsid mosquitto -c "$conf" </dev/null >>"$log" 2>&1 &
    local pid=$!
    echo "$pid" >"$dir/mosquitto.pid"
    wait_for_port mosquitto 127.0.0.1 "$port" "$log" "$pid"
    say "mosquitto: started on 127.0.0.1:$port (pid $pid, running as $run_as)"
}

# --- PostgreSQL ------------------------------------------------------------------------------

# psql over TCP with the credentials from DATABASE_URL; -w: fail instead of asking for a password.
pg_tcp_psql() {
    PGHOST="$host" PGPORT="$port" PGUSER="$user" PGPASSWORD="$password" PGDATABASE=postgres \
        PGCONNECT_TIMEOUT=5 psql -X -q -w -v ON_ERROR_STOP=1 "$@"
}

# Log in over TCP as DATABASE_URL says, and create its database if it is missing.
pg_check_login() {
    if ! command -v psql >/dev/null; then
        say "postgres: psql is not installed; not checking the login"
        return
    fi
    if ! pg_tcp_psql -tAc 'SELECT 1' >/dev/null; then
        die "postgres: cannot log in at $host:$port as '$user' (DATABASE_URL). Give the role that password, e.g.: su postgres -c \"psql -c \\\"ALTER ROLE $user PASSWORD '<password>'\\\"\", or allow it in pg_hba.conf"
    fi
    pg_tcp_psql -v pg_db="$db" <<'SQL'
SELECT NOT EXISTS (SELECT FROM pg_database WHERE datname = :'pg_db') AS create_db \gset
\if :create_db
CREATE DATABASE :"pg_db";
\endif
SQL
    say "postgres: logged in at $host:$port as '$user'; database '$db' is there"
}

# Start the packaged cluster that uses port $port, creating one if there is none at all.
pg_start_cluster() {
    local clusters line ver name setup_log="$LOG_DIR/postgres-setup.log"
    clusters="$(pg_lsclusters --no-header 2>/dev/null || true)"
    line="$(awk -v p="$port" '$3 == p { print; exit }' <<<"$clusters")"
    if [[ -z $line ]]; then
        [[ -z $clusters ]] ||
            die "postgres: no local cluster uses port $port; pg_lsclusters shows:"$'\n'"$clusters"
        ver="$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n 1)"
        say "postgres: creating cluster $ver/main on port $port"
        as_root pg_createcluster --port "$port" "$ver" main </dev/null >>"$setup_log" 2>&1 ||
            { tail -n 20 "$setup_log" >&2; die "postgres: pg_createcluster failed"; }
        line="$(pg_lsclusters --no-header | awk -v p="$port" '$3 == p { print; exit }')"
    fi
    read -r ver name _ <<<"$line"
    say "postgres: starting cluster $ver/$name (pg_ctlcluster $ver $name start)"
    # Without systemd running, pg_ctlcluster may still try to hand over to systemctl and fail:
    # then start it directly.
    as_root pg_ctlcluster "$ver" "$name" start </dev/null >>"$setup_log" 2>&1 ||
        as_root pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start </dev/null >>"$setup_log" 2>&1 ||
        true
    wait_for_port postgres "$host" "$port" "$setup_log"
}

# As the postgres OS user over the local socket: give DATABASE_URL's role its password (creating
# the role if needed) and create its database.
pg_prepare_role_and_db() {
    local set_password=true
    if [[ -z $password ]]; then
        set_password=false
        say "postgres: DATABASE_URL has no password; leaving the role's password alone"
    fi
    as_user postgres psql -X -q -v ON_ERROR_STOP=1 -p "$port" -d postgres \
        -v pg_user="$user" -v pg_password="$password" -v pg_db="$db" \
        -v set_password="$set_password" <<'SQL'
SELECT NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'pg_user') AS create_role \gset
\if :create_role
CREATE ROLE :"pg_user" LOGIN SUPERUSER;
\endif
\if :set_password
ALTER ROLE :"pg_user" LOGIN PASSWORD :'pg_password';
\endif
SELECT NOT EXISTS (SELECT FROM pg_database WHERE datname = :'pg_db') AS create_db \gset
\if :create_db
CREATE DATABASE :"pg_db" OWNER :"pg_user";
\endif
SQL
    say "postgres: role '$user' can log in with the password from DATABASE_URL; database '$db' exists"
}

ensure_postgres() {
    local url="${DATABASE_URL:-}"
    case "$url" in
        postgres://* | postgresql://* | pgsql://*) ;;
        *) url="postgres://postgres:postgres@127.0.0.1:5432/test" ;;
    esac
    local scheme host port user password path db
    eval "$(url_fields "$url" 5432)"
    db="${path#/}"
    user="${user:-postgres}"
    if tcp_open "$host" "$port"; then
        say "postgres: using the server at $host:$port"
        pg_check_login
        return
    fi
    is_this_machine "$host" ||
        die "postgres: nothing answers at $host:$port (DATABASE_URL) and that is not this machine"
    mkdir -p "$LOG_DIR"
    if ! compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null; then
        apt_install postgresql
    fi
    if tcp_open "$host" "$port"; then
        say "postgres: the package started a server at $host:$port; using it"
    else
        pg_start_cluster
    fi
    pg_prepare_role_and_db
    pg_check_login
}

# --- RabbitMQ --------------------------------------------------------------------------------

# Start the packaged RabbitMQ: through its init script where there is one, else detached (the
# Debian wrapper runs it as the rabbitmq user). It takes several seconds to boot.
rabbitmq_start() {
    local log="$LOG_DIR/rabbitmq-setup.log"
    mkdir -p "$LOG_DIR"
    say "rabbitmq: starting the packaged server (log in /var/log/rabbitmq/, setup in var/log/rabbitmq-setup.log)"
    if [[ -x /etc/init.d/rabbitmq-server ]]; then
        as_root /etc/init.d/rabbitmq-server start </dev/null >>"$log" 2>&1 || true
    fi
    if ! tcp_open "$host" "$port"; then
        as_root rabbitmq-server -detached </dev/null >>"$log" 2>&1 || true
    fi
    START_TIMEOUT_S=90 wait_for_port rabbitmq "$host" "$port" "$log"
}

# A user and virtual host other than guest and / are made on a server this script started.
rabbitmq_prepare_user() {
    local vhost="${path#/}"
    vhost="${vhost:-/}"
    [[ -z $user || $user == guest ]] && [[ $vhost == / ]] && return
    as_root rabbitmqctl add_vhost "$vhost" >/dev/null 2>&1 || true
    if ! as_root rabbitmqctl add_user "$user" "$password" >/dev/null 2>&1; then
        as_root rabbitmqctl change_password "$user" "$password" >/dev/null
    fi
    as_root rabbitmqctl set_permissions -p "$vhost" "$user" '.*' '.*' '.*' >/dev/null
    say "rabbitmq: user '$user' may use virtual host '$vhost'"
}

ensure_rabbitmq() {
    local url="${CELERY_BROKER_URL:-}"
    case "$url" in
        amqp://* | amqps://*) ;;
        *) url="${TEST_RABBITMQ_URL:-amqp://guest:guest@127.0.0.1:5672//}" ;;
    esac
    local scheme host port user password path
    eval "$(url_fields "$url" 5672)"
    if tcp_open "$host" "$port"; then
        say "rabbitmq: using the server at $host:$port"
        return
    fi
    is_this_machine "$host" ||
        die "rabbitmq: nothing answers at $host:$port and that is not this machine"
    if ! command -v rabbitmq-server >/dev/null; then
        apt_install rabbitmq-server
    fi
    if tcp_open "$host" "$port"; then
        say "rabbitmq: the package started a server at $host:$port; using it"
    else
        rabbitmq_start
    fi
    rabbitmq_prepare_user
    say "rabbitmq: running at $host:$port"
}

# --- Chromium --------------------------------------------------------------------------------

ensure_chromium() {
    if [[ ! -x /usr/bin/chromium || ! -x /usr/bin/chromedriver ]]; then
        apt_install chromium chromium-driver
    fi
    say "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo '?'); $(/usr/bin/chromedriver --version 2>/dev/null | cut -d' ' -f1-2 || echo '?')"
}

# --- main ------------------------------------------------------------------------------------

stop_local() {
    stop_pidfile redis-server "$VAR/redis/redis.pid"
    stop_pidfile mosquitto "$VAR/mosquitto/mosquitto.pid"
}

main() {
    [[ $# -gt 0 ]] || usage
    [[ -n $PY ]] || die "python3 is needed (Debian and Ubuntu: apt-get install python3)"
    local service
    for service in "$@"; do
        case "$service" in
            redis) ensure_redis ;;
            mosquitto) ensure_mosquitto ;;
            postgres) ensure_postgres ;;
            rabbitmq) ensure_rabbitmq ;;
            chromium) ensure_chromium ;;
            stop) stop_local ;;
            *) usage ;;
        esac
    done
}

main "$@"
