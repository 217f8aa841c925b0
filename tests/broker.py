"""The project's own Mosquitto configuration, rendered for a broker on another port and data dir.

Delivery tests and benchmarks need the queue limits we ship (a stock broker drops QoS-1
messages past 1,000 queued for a client that is away), on a broker of their own.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

CONF = Path(__file__).resolve().parent.parent / "scripts" / "mosquitto.conf"


def render_mosquitto_conf(*, port: int, data_dir: Path) -> str:
    """Return scripts/mosquitto.conf listening on `port`, keeping its data and log in `data_dir`."""
    conf = CONF.read_text()
    conf = re.sub(r"(?m)^listener 1883 ", f"listener {port} ", conf)
    conf = re.sub(r"(?m)^persistence_location .*$", f"persistence_location {data_dir}/", conf)
    conf = re.sub(r"(?m)^log_dest file .*$", f"log_dest file {data_dir}/mosquitto.log", conf)
    # Run as whoever starts it: a temporary directory is closed to the `mosquitto` user.
    user = "root" if os.geteuid() == 0 else os.environ.get("USER", "root")
    return re.sub(r"(?m)^user .*$", f"user {user}", conf)
