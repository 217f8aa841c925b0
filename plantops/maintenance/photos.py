"""Work-order photos as they are kept: decoded (so only real images are stored), turned the
way the camera was held, scaled down to what a screen and a report need, and written again
without the camera's metadata (GPS position, device, owner). Pure: no Django, and no active
language: a refusal carries its English words, marked for translation, and its figures apart,
for the service to put in the user's language.

Decoding is bounded in memory: an image's cost (`decoded_bytes`) is read from its header and
refused over budget before a pixel is decoded, a JPEG is decoded straight at a reduced scale,
and a process decodes at most `DECODES_AT_ONCE` photos at a time."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.utils.translation import gettext_noop
from PIL import Image, ImageMode, ImageOps, UnidentifiedImageError

from plantops.core.refusals import Refused

# The formats tablet cameras and browsers upload.
ACCEPTED = frozenset({"JPEG", "PNG", "WEBP"})
NAMES = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP"}
# The budget is 50 megapixels of 8-bit RGB: a 48-megapixel phone photo (8000 × 6000) fits; a
# small file that decodes to gigapixels (a decompression bomb) does not. A photo keeps to both:
# its pixels, and its `decoded_bytes`.
MAX_PIXELS = 50_000_000
MAX_DECODED_BYTES = 50_000_000 * 3
# Resampling an image with transparency works on a premultiplied copy of it (the image
# library's way to keep transparent pixels' colour out of the edges): it is held twice.
COPIED_TO_SCALE = frozenset({"LA", "RGBA"})
# libwebp decodes into RGBA canvases it keeps, and the image library copies the frame out of
# them into the image: about 16 bytes a pixel at the peak, lossy or lossless, as measured.
WEBP_BYTES_PER_PIXEL = 16
# Long side of the kept photo: sharp on a 10-inch screen at 2× and in a printed report.
MAX_SIDE = 2048
JPEG_QUALITY = 85
# A decode at the budget adds up to ~350 MB to a process for about a second (the worst is a
# grey PNG with transparency; tests/maintenance/test_photo_decoding.py measures it): two at a
# time, ~700 MB, is the most a web process should hold. A request waits this long for its
# turn, then is told to try again.
DECODES_AT_ONCE = 2
DECODE_WAIT_S = 10.0

decoding = threading.BoundedSemaphore(DECODES_AT_ONCE)


NOT_A_PHOTO = gettext_noop("That file is not a JPEG, PNG or WebP photo.")
TOO_MANY_PIXELS = gettext_noop("The photo has too many pixels.")
TOO_MANY_PIXELS_FOR = gettext_noop(
    "The photo has too many pixels (%(width)s × %(height)s): a %(kind)s may have at most"
    " %(most)s megapixels."
)
TOO_MANY_PIXELS_FOR_TRANSPARENT = gettext_noop(
    "The photo has too many pixels (%(width)s × %(height)s): a %(kind)s with transparency may"
    " have at most %(most)s megapixels."
)
BUSY = gettext_noop("Other photos are being processed just now; try again in a moment.")


class NotAPhoto(ValueError):
    """The bytes are not a JPEG, PNG or WebP image that can be read; the message says why.

    `str()` is the message in English; `message` (marked for translation) and `params` are
    its words and figures, to translate: `gettext(error.message) % error.params`."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message % params)
        self.message = message
        self.params = params


class PhotosBusy(Refused):
    """Other photos took every decode for longer than a request waits; trying again works.
    Its message is `BUSY`, marked for translation."""


@dataclass(frozen=True, slots=True)
class Photo:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


def decoded_bytes(image_format: str, mode: str, size: tuple[int, int]) -> int:
    """Return what decoding an image counts against `MAX_DECODED_BYTES`: pixels × bands ×
    bytes per band (16-bit bands are 2), twice that for an image with transparency, and 16
    bytes a pixel for a WebP."""
    width, height = size
    if image_format == "WEBP":
        return width * height * WEBP_BYTES_PER_PIXEL
    descriptor = ImageMode.getmode(mode)
    per_pixel = len(descriptor.bands) * int(descriptor.typestr[-1])
    copies = 2 if mode in COPIED_TO_SCALE else 1
    return width * height * per_pixel * copies


def prepare(data: bytes, *, max_side: int = MAX_SIDE, wait_s: float | None = None) -> Photo:
    """Return the photo to keep for `data`; raise NotAPhoto, or PhotosBusy when no decode
    is free within `wait_s` seconds (`DECODE_WAIT_S` by default)."""
    try:
        # Opening reads the header only: the pixels are decoded by `load()`.
        with Image.open(io.BytesIO(data), formats=sorted(ACCEPTED)) as image:
            image_format = image.format or ""
            if image_format not in ACCEPTED:  # a JPEG holding several pictures (MPO)
                raise NotAPhoto(NOT_A_PHOTO)
            # Our own limit: the image library's (Image.MAX_IMAGE_PIXELS) is global, and
            # below twice its 89 megapixels it only warns.
            _check_budget(image_format, image.mode, image.size)
            with _decode_turn(DECODE_WAIT_S if wait_s is None else wait_s):
                # A JPEG is decoded at 1/2, 1/4 or 1/8 scale if that still covers the kept size.
                image.draft(None, _kept_size(image.size, max_side))
                image.load()
                # In place: the full-size pixels are let go here, not kept beside a copy.
                image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
            ImageOps.exif_transpose(image, in_place=True)
            return _encoded(image)
    except (NotAPhoto, PhotosBusy):
        raise
    except Image.DecompressionBombError as error:
        raise NotAPhoto(TOO_MANY_PIXELS) from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, LookupError) as error:
        raise NotAPhoto(NOT_A_PHOTO) from error


def _check_budget(image_format: str, mode: str, size: tuple[int, int]) -> None:
    width, height = size
    most = min(MAX_PIXELS, MAX_DECODED_BYTES // decoded_bytes(image_format, mode, (1, 1)))
    if width * height > most:
        transparent = mode in COPIED_TO_SCALE and image_format != "WEBP"
        raise NotAPhoto(
            TOO_MANY_PIXELS_FOR_TRANSPARENT if transparent else TOO_MANY_PIXELS_FOR,
            width=width,
            height=height,
            kind=NAMES[image_format],
            most=f"{most / 1e6:.1f}",
        )


@contextmanager
def _decode_turn(wait_s: float) -> Iterator[None]:
    if not decoding.acquire(timeout=wait_s):
        raise PhotosBusy(BUSY)
    try:
        yield
    finally:
        decoding.release()


def _kept_size(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    width, height = size
    scale = min(1.0, max_side / max(width, height))
    return max(1, int(width * scale)), max(1, int(height * scale))


def _encoded(image: Image.Image) -> Photo:
    out = io.BytesIO()
    if image.mode in ("RGBA", "LA", "P") and image.format == "PNG":
        # Drawings and screenshots with transparency stay PNG.
        image.save(out, format="PNG", optimize=True)
        kind = ("image/png", "png")
    else:
        image.convert("RGB").save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
        kind = ("image/jpeg", "jpg")
    return Photo(out.getvalue(), kind[0], kind[1], image.width, image.height)
