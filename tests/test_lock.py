"""The lock files pin, with hashes, every dependency pyproject.toml names, inside its range.

requirements/base.lock is what the image installs and requirements/dev.lock what .venv and CI
install, both with --require-hashes; `make lock` writes them. A dependency added to or narrowed
in pyproject.toml without `make lock` fails here instead of going missing in the image.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import NamedTuple

import pytest
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent


class Pin(NamedTuple):
    version: Version
    sha256: list[str]


def read_lock(path: Path) -> dict[NormalizedName, Pin]:
    """Return the pinned version and sha256 hashes of each distribution in a pip-compile lock."""
    pins: dict[NormalizedName, Pin] = {}
    for line in path.read_text().replace("\\\n", " ").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        requirement, *options = (part.strip() for part in line.split(" --"))
        req = Requirement(requirement)
        (specifier,) = req.specifier
        assert specifier.operator == "==", f"{path.name}: {requirement} is not pinned"
        pins[canonicalize_name(req.name)] = Pin(
            Version(specifier.version),
            [o.removeprefix("hash=sha256:") for o in options if o.startswith("hash=sha256:")],
        )
    return pins


def wanted(lock: str) -> list[Requirement]:
    """Return what pyproject.toml asks the lock to hold: the runtime dependencies (plus the dev
    extra for dev.lock), and the build backend, which installs without build isolation."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    names = project["project"]["dependencies"] + project["build-system"]["requires"]
    if lock == "dev":
        names += project["project"]["optional-dependencies"]["dev"]
    return [Requirement(name) for name in names]


@pytest.mark.parametrize("lock", ["base", "dev"])
def test_every_dependency_of_pyproject_is_pinned_inside_its_range(lock):
    path = ROOT / "requirements" / f"{lock}.lock"
    pins = read_lock(path)
    problems = []
    for req in wanted(lock):
        if req.marker and not req.marker.evaluate():
            continue
        pin = pins.get(canonicalize_name(req.name))
        if pin is None:
            problems.append(f"{req} is missing")
        elif not req.specifier.contains(pin.version, prereleases=True):
            problems.append(f"{req} is pinned at {pin.version}")
    assert not problems, f"{path.name} is behind pyproject.toml: run `make lock`\n" + "\n".join(
        problems
    )


@pytest.mark.parametrize("lock", ["base", "dev"])
def test_every_pin_carries_a_sha256_hash(lock):
    pins = read_lock(ROOT / "requirements" / f"{lock}.lock")
    assert pins
    assert [name for name, pin in pins.items() if not pin.sha256] == []
    assert all(len(h) == 64 for pin in pins.values() for h in pin.sha256)


def test_tests_run_on_the_runtime_versions_the_image_installs():
    base = read_lock(ROOT / "requirements" / "base.lock")
    dev = read_lock(ROOT / "requirements" / "dev.lock")
    assert {name: dev[name].version if name in dev else None for name in base} == {
        name: pin.version for name, pin in base.items()
    }
