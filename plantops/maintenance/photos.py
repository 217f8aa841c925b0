"""Work-order photos as they are kept: decoded (so only real images are stored), turned the
way the camera was held, scaled down to what a screen and a report need, and written again
without the camera's metadata (GPS position, device, owner). Pure: no Django."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

# The formats tablet cameras and browsers upload.
ACCEPTED = frozenset({"JPEG", "PNG", "WEBP"})
# A 12-megapixel phone photo is ~4000 × 3000; this refuses decompression bombs long before
# they cost memory (a small file that decodes to gigapixels).
MAX_PIXELS = 64_000_000
# Long side of the kept photo: sharp on a 10-inch screen at 2× and in a printed report.
MAX_SIDE = 2048
JPEG_QUALITY = 85


class NotAPhoto(ValueError):
    """The bytes are not a JPEG, PNG or WebP image that can be read; the message says why."""


@dataclass(frozen=True, slots=True)
class Photo:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


def prepare(data: bytes, *, max_side: int = MAX_SIDE) -> Photo:
    """Return the photo to keep for `data`; raise NotAPhoto."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ACCEPTED:
                raise NotAPhoto("That file is not a JPEG, PNG or WebP photo.")
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise NotAPhoto(f"The photo has too many pixels ({width} × {height}).")
            image.load()
            upright = ImageOps.exif_transpose(image)
    except NotAPhoto:
        raise
    except Image.DecompressionBombError as error:
        raise NotAPhoto("The photo has too many pixels.") from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise NotAPhoto("That file is not a JPEG, PNG or WebP photo.") from error
    upright.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if upright.mode in ("RGBA", "LA", "P") and image.format == "PNG":
        # Drawings and screenshots with transparency stay PNG.
        upright.save(out, format="PNG", optimize=True)
        kind = ("image/png", "png")
    else:
        upright.convert("RGB").save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
        kind = ("image/jpeg", "jpg")
    return Photo(out.getvalue(), kind[0], kind[1], upright.width, upright.height)
