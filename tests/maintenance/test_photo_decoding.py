"""Decoding a photo is bounded in memory: over-budget images are refused from their header,
the worst images the budget takes stay under a stated peak, and a process decodes at most two
at once."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, ImageFile

from plantops.maintenance import photos
from plantops.maintenance.photos import NotAPhoto, PhotosBusy, prepare
from tests.factories import make_work_order

ROOT = Path(__file__).resolve().parent.parent.parent
MB = 1_000_000
# What a decode of the worst image the budget takes may add to a process at its peak.
PEAK_BOUND = 400 * MB

# Run in a fresh process, whose peak resident memory is then this one decode's. Linux counts
# in /proc/self/status (KiB); not ru_maxrss, which a child starts with its parent's peak.
DECODE_AND_MEASURE = """
import sys
from plantops.maintenance.photos import NotAPhoto, prepare

def status_kib(field):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))

data = open(sys.argv[1], "rb").read()
with open("/proc/self/clear_refs", "w") as clear_refs:
    clear_refs.write("5")  # the peak (VmHWM) starts again from what is resident now
before = status_kib("VmRSS")
try:
    kept = prepare(data)
    outcome = f"kept {kept.width}x{kept.height}"
except NotAPhoto as refused:
    outcome = str(refused)
print((status_kib("VmHWM") - before) * 1024, outcome)
"""


def saved(path: Path, mode: str, size: tuple[int, int], image_format: str, **options) -> Path:
    """An image of one colour: tiny as a file, and decoded to as many bytes as any other."""
    Image.new(mode, size).save(path, format=image_format, **options)
    return path


def decoded_in_a_child(path: Path) -> tuple[int, str]:
    """The bytes the decode of `path` added to a fresh process's peak, and how it ended."""
    done = subprocess.run(
        [sys.executable, "-c", DECODE_AND_MEASURE, str(path)],
        cwd=ROOT,
        env=os.environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    grown, outcome = done.stdout.strip().split(" ", 1)
    return int(grown), outcome


def png(mode: str, size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def every_decode_taken() -> Iterator[Callable[[], None]]:
    """Every decode of this process taken, as by other uploads; the test may give one back."""
    held = 0
    for _ in range(photos.DECODES_AT_ONCE):
        photos.decoding.acquire()
        held += 1

    def give_one_back() -> None:
        nonlocal held
        held -= 1
        photos.decoding.release()

    yield give_one_back
    for _ in range(held):
        photos.decoding.release()


def test_an_8000_square_transparent_png_of_a_quarter_megabyte_is_refused_without_a_decode(
    tmp_path,
):
    bomb = saved(tmp_path / "bomb.png", "RGBA", (8000, 8000), "PNG")
    assert bomb.stat().st_size < 300_000
    grown, outcome = decoded_in_a_child(bomb)
    assert outcome == (
        "The photo has too many pixels (8000 × 8000): a PNG with transparency may have at most"
        " 18.8 megapixels."
    )
    assert grown < 10 * MB  # its pixels alone would be 256 MB


@pytest.mark.parametrize(
    ("mode", "size", "image_format", "kind", "most"),
    [
        ("RGB", (10000, 5001), "PNG", "a PNG", "50.0"),
        ("LA", (7500, 5001), "PNG", "a PNG with transparency", "37.5"),
        ("RGBA", (5000, 3751), "PNG", "a PNG with transparency", "18.8"),
        ("CMYK", (7500, 5001), "JPEG", "a JPEG", "37.5"),
        ("RGB", (3750, 2501), "WEBP", "a WebP", "9.4"),
    ],
)
def test_an_image_over_the_budget_for_its_kind_is_refused(
    tmp_path, mode, size, image_format, kind, most
):
    image = saved(tmp_path / "big", mode, size, image_format)
    with pytest.raises(NotAPhoto, match=f"{kind} may have at most {most} megapixels"):
        prepare(image.read_bytes())


@pytest.mark.parametrize(
    ("mode", "size", "image_format", "options"),
    [
        ("RGB", (8660, 5773), "PNG", {}),  # 49.99 megapixels: 200 MB as the library holds it
        ("LA", (7500, 5000), "PNG", {}),  # scaled through a premultiplied copy
        # A progressive JPEG keeps every coefficient until its last scan, at any draft scale.
        ("CMYK", (7500, 5000), "JPEG", {"progressive": True}),
    ],
)
def test_the_worst_images_the_budget_takes_are_decoded_under_the_stated_peak(
    tmp_path, mode, size, image_format, options
):
    image = saved(tmp_path / "worst", mode, size, image_format, **options)
    grown, outcome = decoded_in_a_child(image)
    assert outcome == "kept 2048x1365"
    assert grown < PEAK_BOUND


def test_a_large_jpeg_is_decoded_at_a_reduced_scale(tmp_path):
    image = saved(tmp_path / "camera.jpg", "RGB", (8660, 5773), "JPEG")
    grown, outcome = decoded_in_a_child(image)
    assert outcome == "kept 2048x1366"
    # Decoded at 1/4 scale: 2165 × 1444, where the full picture would be 200 MB.
    assert grown < 60 * MB


def test_no_more_than_two_photos_are_decoded_at_once(monkeypatch):
    decoding_now, most_at_once = 0, 0
    counting = threading.Lock()
    decode = ImageFile.ImageFile.load

    def slow_decode(image):
        nonlocal decoding_now, most_at_once
        if not image.tile:  # already decoded
            return decode(image)
        with counting:
            decoding_now += 1
            most_at_once = max(most_at_once, decoding_now)
        time.sleep(0.1)
        try:
            return decode(image)
        finally:
            with counting:
                decoding_now -= 1

    monkeypatch.setattr(ImageFile.ImageFile, "load", slow_decode)
    drawing = png("RGB", (64, 48))
    kept = []
    uploads = [threading.Thread(target=lambda: kept.append(prepare(drawing))) for _ in range(6)]
    for upload in uploads:
        upload.start()
    for upload in uploads:
        upload.join()
    assert len(kept) == 6
    assert most_at_once == photos.DECODES_AT_ONCE == 2


def test_a_photo_waits_its_turn_and_is_refused_when_none_comes_in_time(every_decode_taken):
    drawing = png("RGB", (64, 48))
    with pytest.raises(PhotosBusy, match="try again in a moment"):
        prepare(drawing, wait_s=0.05)
    threading.Timer(0.2, every_decode_taken).start()
    assert prepare(drawing, wait_s=5).width == 64


@pytest.mark.django_db
def test_a_technician_told_the_photos_are_busy_can_try_again(
    client, crew, settings, tmp_path, monkeypatch, every_decode_taken
):
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr(photos, "DECODE_WAIT_S", 0.05)
    work = make_work_order(by=crew["sam"], assignee=crew["tom"], started=True)
    client.force_login(crew["tom"])
    url = reverse("maintenance:photo_add", args=[work.pk])
    drawing = png("RGB", (64, 48))
    busy = client.post(url, {"photo": SimpleUploadedFile("belt.png", drawing)}, follow=True)
    assert "Other photos are being processed just now; try again in a moment." in (
        busy.content.decode()
    )
    assert not work.photos.exists()
    every_decode_taken()
    client.post(url, {"photo": SimpleUploadedFile("belt.png", drawing)})
    assert work.photos.count() == 1
