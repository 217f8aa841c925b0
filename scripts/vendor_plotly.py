#!/usr/bin/env python3
"""Put plotly.js's basic bundle (scatter, bar, pie) under static/vendor/plotly/.

The bundle is fetched from the npm registry at a pinned version, checked against the tarball's
sha512 (npm's `dist.integrity`) before anything is unpacked, and kept out of git. When the file
already there has the pinned content, nothing is fetched. Standard library only: it runs from
scripts/bootstrap.sh and in the Docker build, neither of which has node.

Two of the bundle's config defaults name plotly's servers: the map shapes' base
(`topojsonURL`, for geo traces, which the basic bundle does not have) and Chart Studio's
address (`plotlyServerURL`, for an "edit in Chart Studio" link our charts never show). Neither
is ever fetched, but a plant's auditor should not find a CDN address in what the plant serves:
both are rewritten to local values after the digest check, and the file kept is checked against
its own digest.

The version is the plotly.js the `plotly` Python package is built against (plotly.py 7.1 →
plotly.js 4.1.1), so the figures the server composes with plotly.graph_objects are figures this
bundle draws.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path

VERSION = "4.1.1"
TARBALL = (
    f"https://registry.npmjs.org/plotly.js-basic-dist-min/-/plotly.js-basic-dist-min-{VERSION}.tgz"
)
INTEGRITY = "sha512-1oNF8PeQx2hv/y7tqEVWKD3JGwn/MGEMQ8mL9HUwsaqG9FGy/OU5FHUHvzqbqxN4mnwZGI9abTiE775C4kkjMQ=="
# The bundle as the tarball holds it, and as kept here (its server addresses made local), so a
# later run can tell the right file is in place without the tarball.
UPSTREAM_SHA256 = "99784e3abfb07b142a15e521a439e6d9addceadb3f79553fd24c72774f0649ba"
BUNDLE_SHA256 = "bb7cfae7b84a14af05c19ec5793bde4ce4e58f5276208ff2d8791a271f44fd18"
# (default as shipped, default kept): each is in the bundle exactly once.
LOCAL_DEFAULTS = [
    (b'dflt:"https://cdn.plot.ly/un/"', b'dflt:"/static/vendor/plotly/"'),
    (b'dflt:"https://cloud.plotly.com/newchart"', b'dflt:""'),
]
MEMBERS = {"package/plotly-basic.min.js": "plotly-basic.min.js", "package/LICENSE": "LICENSE"}
TARGET = Path(__file__).resolve().parent.parent / "static" / "vendor" / "plotly"
MAX_BYTES = 10 * 1024 * 1024


def say(text: str) -> None:
    print(f"==> {text}", flush=True)


def sha256_of(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def check_integrity(data: bytes, integrity: str) -> None:
    """Raise unless `data` matches an npm Subresource Integrity string ("sha512-<base64>")."""
    algorithm, _, expected = integrity.partition("-")
    if algorithm != "sha512":
        raise SystemExit(f"error: unsupported integrity algorithm {algorithm!r}")
    actual = base64.b64encode(hashlib.sha512(data).digest()).decode()
    if actual != expected:
        raise SystemExit(
            f"error: {TARBALL} does not match its pinned integrity\n"
            f"  expected sha512-{expected}\n  got      sha512-{actual}"
        )


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        data = response.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise SystemExit(f"error: {url} is larger than {MAX_BYTES} bytes")
    return data


def unpack(data: bytes, target: Path) -> None:
    """Write the wanted members of the verified tarball into `target`, each file atomically."""
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member, name in MEMBERS.items():
            source = tar.extractfile(member)
            if source is None:
                raise SystemExit(f"error: {member} is not a file in the tarball")
            with tempfile.NamedTemporaryFile(dir=target, delete=False) as part:
                part.write(source.read())
            os.replace(part.name, target / name)
            (target / name).chmod(0o644)


def main() -> int:
    bundle = TARGET / "plotly-basic.min.js"
    if sha256_of(bundle) == BUNDLE_SHA256:
        say(f"plotly.js basic {VERSION} is in {TARGET.relative_to(TARGET.parents[2])}")
        return 0
    say(f"fetching plotly.js basic {VERSION} from the npm registry")
    data = fetch(TARBALL)
    check_integrity(data, INTEGRITY)
    unpack(data, TARGET)
    if sha256_of(bundle) != UPSTREAM_SHA256:
        raise SystemExit(f"error: {bundle} from the verified tarball is not the pinned bundle")
    localise(bundle)
    if sha256_of(bundle) != BUNDLE_SHA256:
        raise SystemExit(f"error: {bundle} with local defaults is not the pinned result")
    return 0


def localise(bundle: Path) -> None:
    """Rewrite the defaults that name plotly's servers to local values (see the docstring)."""
    text = bundle.read_bytes()
    for shipped, kept in LOCAL_DEFAULTS:
        if text.count(shipped) != 1:
            raise SystemExit(f"error: {shipped.decode()} is not in {bundle} exactly once")
        text = text.replace(shipped, kept)
    with tempfile.NamedTemporaryFile(dir=bundle.parent, delete=False) as part:
        part.write(text)
    os.replace(part.name, bundle)
    bundle.chmod(0o644)


if __name__ == "__main__":
    sys.exit(main())
