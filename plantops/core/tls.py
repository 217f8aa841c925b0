"""TLS for PlantOps' own MQTT clients (ingest, simulator, broker admin).

The broker's certificate is checked against `ca_file` (the plant's own CA; the system's trusted
CAs when empty) and its host name; with `cert_file` and `key_file` the client also presents a
certificate, for a broker that asks for one (`require_certificate true`).
"""

from __future__ import annotations

import ssl


def client_context(ca_file: str = "", cert_file: str = "", key_file: str = "") -> ssl.SSLContext:
    """An SSL context for a client that verifies the broker (TLS 1.2 at least)."""
    context = ssl.create_default_context(cafile=ca_file or None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if cert_file:
        context.load_cert_chain(cert_file, key_file or None)
    return context


def mqtt_context() -> ssl.SSLContext:
    """The context for an `mqtts://` connection, from MQTT_CA_FILE, MQTT_CERT_FILE and
    MQTT_KEY_FILE."""
    from django.conf import settings

    return client_context(settings.MQTT_CA_FILE, settings.MQTT_CERT_FILE, settings.MQTT_KEY_FILE)
