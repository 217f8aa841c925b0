#!/usr/bin/env bash
# The broker's TLS certificate for docker/compose.yaml, signed by a plant CA made here:
#   docker/certs.sh broker.plant.example [more names or addresses…]
# Writes docker/certs/ca.crt (give it to every gateway and client), broker.crt and broker.key
# (mounted into the broker), and the CA's key in docker/ca/, which no container mounts (keep it
# offline: it signs). An existing CA is reused, so gateways keep trusting it when the broker's
# certificate is renewed. Bring your own instead by putting the three files in docker/certs/.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DIR="$HERE/certs"
CA_KEY="$HERE/ca/ca.key"
if (($# == 0)); then
    echo "usage: $0 <broker host name> [other names or IP addresses…]" >&2
    exit 2
fi
umask 077
mkdir -p "$DIR" "$(dirname "$CA_KEY")"
cd "$DIR"

if [[ ! -f $CA_KEY ]]; then
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
        -subj "/CN=PlantOps plant CA" -keyout "$CA_KEY" -out ca.crt
fi

names="DNS:mosquitto,DNS:localhost"
for name in "$@"; do
    if [[ $name =~ ^[0-9.]+$ || $name == *:* ]]; then
        names+=",IP:$name"
    else
        names+=",DNS:$name"
    fi
done
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj "/CN=$1" -keyout broker.key -out broker.csr
openssl x509 -req -in broker.csr -CA ca.crt -CAkey "$CA_KEY" -CAcreateserial -days 825 \
    -extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$names") -out broker.crt
rm -f broker.csr
chmod 644 ca.crt broker.crt
# The broker runs as the image's mosquitto user (1883): only it may read the key.
if [[ $(id -u) == 0 ]]; then
    chown 1883:1883 broker.key
    chmod 600 broker.key
else
    chmod 644 broker.key
    echo "note: broker.key is readable by everyone on this host; run as root to restrict it" >&2
fi
echo "docker/certs: ca.crt, broker.crt ($names), broker.key"
