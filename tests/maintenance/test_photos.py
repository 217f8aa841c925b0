"""Work-order photos as kept: only real images, upright, scaled down, without camera metadata."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from plantops.maintenance.photos import MAX_SIDE, NotAPhoto, prepare

GPS_IFD = 0x8825
ORIENTATION = 0x0112
MAKE = 0x010F


def camera_jpeg(width: int, height: int, *, orientation: int = 1) -> bytes:
    """A JPEG as a phone writes it: its make, its GPS position and how it was held."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    image.paste((30, 30, 200), (0, 0, width // 2, height))  # left half blue: shows rotation
    exif = Image.Exif()
    exif[MAKE] = "TabletCam"
    exif[ORIENTATION] = orientation
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)})
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def test_a_camera_photo_is_scaled_down_and_loses_its_gps_and_device():
    kept = prepare(camera_jpeg(4000, 3000))
    assert (kept.content_type, kept.extension) == ("image/jpeg", "jpg")
    assert (kept.width, kept.height) == (MAX_SIDE, 1536)
    image = opened(kept.data)
    assert image.size == (MAX_SIDE, 1536)
    exif = image.getexif()
    assert MAKE not in exif
    assert not exif.get_ifd(GPS_IFD)
    assert b"TabletCam" not in kept.data


def test_a_photo_taken_with_the_tablet_turned_is_kept_upright():
    # Orientation 6: the sensor's picture must be turned 90° clockwise to be seen upright.
    kept = prepare(camera_jpeg(400, 300, orientation=6))
    image = opened(kept.data).convert("RGB")
    assert image.size == (300, 400)
    top, bottom = image.getpixel((150, 5)), image.getpixel((150, 395))
    assert top[2] > 150 > top[0]  # the blue half is now on top
    assert bottom[0] > 150 > bottom[2]
    assert ORIENTATION not in opened(kept.data).getexif()


def test_a_small_photo_keeps_its_size_and_a_transparent_png_stays_png():
    kept = prepare(camera_jpeg(640, 480))
    assert (kept.width, kept.height) == (640, 480)
    drawing = io.BytesIO()
    Image.new("RGBA", (10, 10), (0, 0, 0, 0)).save(drawing, format="PNG")
    png = prepare(drawing.getvalue())
    assert (png.content_type, png.width) == ("image/png", 10)
    assert opened(png.data).mode == "RGBA"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not an image at all",
        b"\xff\xd8\xff\xe0" + bytes(1000),  # a JPEG's first bytes and nothing after
        camera_jpeg(64, 48)[:200],  # cut off in transfer
    ],
)
def test_anything_but_a_readable_image_is_refused(data):
    with pytest.raises(NotAPhoto, match="not a JPEG, PNG or WebP photo"):
        prepare(data)


def test_other_image_formats_are_refused():
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, format="GIF")
    with pytest.raises(NotAPhoto, match="not a JPEG, PNG or WebP"):
        prepare(gif.getvalue())


@pytest.mark.parametrize("side", [9000, 14000])
def test_a_decompression_bomb_is_refused_before_it_is_decoded(side):
    # One colour: a few kilobytes of PNG, 81 or 196 megapixels decoded (the second is past
    # the image library's own limit too).
    bomb = io.BytesIO()
    Image.new("1", (side, side)).save(bomb, format="PNG")
    assert len(bomb.getvalue()) < 100_000
    with pytest.raises(NotAPhoto, match="too many pixels"):
        prepare(bomb.getvalue())
