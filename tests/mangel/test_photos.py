"""The photo pipeline: only real photos get in, and what is stored is clean and upright."""

from __future__ import annotations

import io
import struct
import time
import zlib
from pathlib import Path

import pytest
from flask import Flask
from flask_babel import Babel
from PIL import ExifTags, Image, ImageCms, ImageFile
from werkzeug.datastructures import FileStorage

from mangel.photos import PhotoError, ProcessedPhoto, photo_path, process_photo, redact, save_photo

MB = 2**20
LIMITS = {"max_bytes": 10 * MB, "max_pixels": 40_000_000}
RED, BLUE = (220, 20, 20), (20, 20, 220)
METADATA_KEYS = ("exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment")
PHP = b'<?php system($_GET["c"]); ?>'


def process(data: bytes, **limits) -> ProcessedPhoto:
    return process_photo(io.BytesIO(data), **{**LIMITS, **limits})


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def marked(size=(300, 200)) -> Image.Image:
    """Blue picture with a red block in its top-left corner, to tell where that corner went."""
    image = Image.new("RGB", size, BLUE)
    image.paste(RED, (0, 0, size[0] // 4, size[1] // 4))
    return image


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def close_to(pixel, colour, tolerance=40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


def exif_with_gps(orientation: int, lat_ref="N", lon_ref="E") -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "Testkamera"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: lat_ref,
        ExifTags.GPS.GPSLatitude: (52.0, 31.0, 12.0),
        ExifTags.GPS.GPSLongitudeRef: lon_ref,
        ExifTags.GPS.GPSLongitude: (13.0, 24.0, 36.0),
    }
    return exif


def assert_clean(data: bytes) -> None:
    image = opened(data)
    assert image.format == "JPEG"
    assert image.mode == "RGB"
    assert len(image.getexif()) == 0
    assert not set(METADATA_KEYS) & set(image.info)


def png_claiming(width: int, height: int) -> bytes:
    """A valid greyscale PNG of the given size: rows of zeros deflate about 1000 : 1."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    compressor = zlib.compressobj(9)
    row = b"\0" * (width + 1)  # filter byte + one byte per pixel
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", idat)
        + chunk(b"IEND", b"")
    )


# --- what gets in ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lat_ref", "lon_ref", "expected"), [("N", "E", (1, 1)), ("S", "W", (-1, -1))]
)
def test_jpeg_is_made_upright_stripped_and_its_gps_read(lat_ref, lon_ref, expected):
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    upload = encode(
        marked((300, 200)),
        "JPEG",
        exif=exif_with_gps(6, lat_ref, lon_ref),
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/"/>',
        icc_profile=srgb,
        comment=b"Aufgenommen in der Hauptstr. 1",
    )

    photo = process(upload)

    # Orientation 6: the camera was turned clockwise, so the stored top-left is the top-right.
    assert (photo.width, photo.height) == (200, 300)
    image = opened(photo.data)
    assert image.size == (200, 300)
    assert close_to(image.getpixel((190, 10)), RED)
    assert close_to(image.getpixel((10, 10)), BLUE)
    assert close_to(image.getpixel((190, 290)), BLUE)
    assert_clean(photo.data)
    assert_clean(photo.thumbnail)
    assert photo.content_type == "image/jpeg"
    assert photo.gps == pytest.approx((expected[0] * 52.52, expected[1] * 13.41))


def test_photo_without_gps_has_none():
    assert process(encode(marked(), "JPEG")).gps is None


def test_malformed_gps_is_ignored_not_refused():
    exif = Image.Exif()
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (1.0,),
    }
    assert process(encode(marked(), "JPEG", exif=exif)).gps is None


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P"])
def test_transparency_is_flattened_onto_white(mode):
    image = Image.new("RGBA", (100, 80), (0, 0, 0, 0))
    image.paste((200, 0, 0, 255), (0, 0, 50, 80))
    if mode == "P":
        image = image.convert("P", palette=Image.Palette.ADAPTIVE, colors=8)
        image.info["transparency"] = image.getpixel((99, 0))
    elif mode == "LA":
        image = image.convert("LA")

    result = opened(process(encode(image, "PNG")).data)

    assert result.mode == "RGB"
    assert close_to(result.getpixel((90, 40)), (255, 255, 255), 10)
    assert not close_to(result.getpixel((10, 40)), (255, 255, 255), 10)


@pytest.mark.parametrize(
    ("fmt", "mode"),
    [("PNG", "L"), ("PNG", "1"), ("PNG", "I;16"), ("PNG", "P"), ("JPEG", "L"), ("JPEG", "CMYK")],
)
def test_other_modes_become_rgb(fmt, mode):
    # Mid-grey; in 16 bits it must be scaled, not clipped to white.
    image = Image.new(mode, (64, 48), 32768 if mode == "I;16" else 128)
    photo = process(encode(image, fmt))
    result = opened(photo.data)
    assert result.mode == "RGB"
    assert result.size == (64, 48)
    if mode in ("L", "I;16"):
        assert close_to(result.getpixel((32, 24)), (128, 128, 128), 8)


def test_webp_is_accepted():
    photo = process(encode(marked((320, 240)), "WEBP", quality=90, exif=exif_with_gps(1)))
    assert (photo.width, photo.height) == (320, 240)
    assert photo.gps == pytest.approx((52.52, 13.41))
    assert_clean(photo.data)


def test_heic_is_accepted_upright_and_stripped():
    exif = exif_with_gps(6)
    upload = encode(marked((300, 200)), "HEIF", quality=90, exif=exif.tobytes())
    assert upload[4:12] == b"ftypheic"

    photo = process(upload)

    # pillow-heif rotates through the HEIF container; it must not be rotated a second time.
    assert (photo.width, photo.height) == (200, 300)
    assert close_to(opened(photo.data).getpixel((190, 10)), RED)
    assert photo.gps == pytest.approx((52.52, 13.41))
    assert_clean(photo.data)


def test_camera_jpeg_with_extra_frames_mpo_is_accepted():
    upload = encode(marked(), "MPO", save_all=True, append_images=[Image.new("RGB", (300, 200))])
    assert Image.open(io.BytesIO(upload)).format == "MPO"
    assert process(upload).width == 300


def linear_rgb_profile() -> bytes:
    """A minimal ICC v2 profile: sRGB primaries, but linear tone curves instead of sRGB's."""

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ \0\0\0\0" + struct.pack(">3i", *(round(v * 65536) for v in (x, y, z)))

    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, 256) + b"\0\0"  # gamma 1.0
    tags = [
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.4361, 0.2225, 0.0139)),
        (b"gXYZ", xyz(0.3851, 0.7169, 0.0971)),
        (b"bXYZ", xyz(0.1431, 0.0606, 0.7141)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    table, data = b"", b""
    for signature, content in tags:
        table += signature + struct.pack(">II", 132 + 12 * len(tags) + len(data), len(content))
        data += content
    body = struct.pack(">I", len(tags)) + table + data
    header = (
        struct.pack(">I", 128 + len(body))
        + b"\0\0\0\0\x02\x10\0\0mntrRGB XYZ "
        + b"\0" * 12
        + b"acsp"
        + b"\0" * 28
        + xyz(0.9642, 1.0, 0.8249)[8:]
        + b"\0" * 48
    )
    return header + body


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_icc_profile_is_converted_to_srgb_then_dropped(fmt):
    grey = Image.new("RGB", (64, 48), (128, 128, 128))
    photo = process(encode(grey, fmt, icc_profile=linear_rgb_profile()))
    # Linear 128 is sRGB 188: the profile was applied, not just thrown away.
    assert close_to(opened(photo.data).getpixel((32, 24)), (188, 188, 188), 4)
    assert_clean(photo.data)


def test_broken_icc_profile_is_dropped_not_refused():
    photo = process(encode(marked(), "JPEG", icc_profile=b"not a profile" * 10))
    assert_clean(photo.data)
    assert close_to(opened(photo.data).getpixel((10, 10)), RED)


def test_large_photo_is_scaled_down_with_dct_scaling():
    upload = encode(Image.effect_noise((4000, 3000), 50).convert("RGB"), "JPEG", quality=90)

    photo = process(upload)

    assert 0.9 * 2048 <= max(photo.width, photo.height) <= 2048
    assert (photo.width, photo.height) == (2000, 1500)
    assert opened(photo.data).size == (2000, 1500)
    assert max(opened(photo.thumbnail).size) == 400


def test_large_png_is_scaled_to_the_limit():
    photo = process(encode(Image.linear_gradient("L").resize((3000, 1200)), "PNG"))
    assert (photo.width, photo.height) == (2048, 819)
    assert opened(photo.thumbnail).size == (400, 160)


def test_small_photo_is_not_enlarged():
    photo = process(encode(marked((300, 200)), "PNG"))
    assert (photo.width, photo.height) == (300, 200)
    assert opened(photo.thumbnail).size == (300, 200)


def test_content_decides_not_name_or_content_type():
    upload = FileStorage(
        io.BytesIO(encode(marked(), "PNG")), filename="x.php", content_type="application/x-php"
    )
    assert process_photo(upload, **LIMITS).width == 300


# --- what is refused -------------------------------------------------------------------------


def refused(data: bytes, **limits) -> str:
    with pytest.raises(PhotoError) as caught:
        process(data, **limits)
    return str(caught.value)


def test_php_named_like_a_photo_is_refused():
    upload = FileStorage(io.BytesIO(PHP), filename="x.jpg.php", content_type="image/jpeg")
    with pytest.raises(PhotoError) as caught:
        process_photo(upload, **LIMITS)
    assert str(caught.value) == "Bitte laden Sie ein Foto im Format JPEG, PNG, WebP oder HEIC hoch."


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF", "ICO"])
def test_other_image_formats_are_refused(fmt):
    assert "JPEG, PNG, WebP oder HEIC" in refused(encode(marked((64, 48)), fmt))


@pytest.mark.parametrize(
    "polyglot",
    [
        pytest.param(b"GIF89a" + PHP, id="gif-header-script"),
        pytest.param(
            b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + PHP,
            id="jpeg-header-script",
        ),
        pytest.param(b"\x89PNG\r\n\x1a\n" + PHP, id="png-signature-script"),
        pytest.param(b"RIFF\x00\x01\x00\x00WEBPVP8 " + PHP, id="webp-header-script"),
        pytest.param(b"", id="empty"),
    ],
)
def test_headers_glued_to_scripts_are_refused(polyglot):
    assert refused(polyglot) in {
        "Bitte laden Sie ein Foto im Format JPEG, PNG, WebP oder HEIC hoch.",
        "Die Datei ist beschädigt oder kein Foto.",
    }


def jpeg_headers() -> bytes:
    """A real JPEG up to the start of its compressed data (SOS segment included)."""
    jpeg = encode(marked(), "JPEG")
    return jpeg[: jpeg.index(b"\xff\xda") + 14]


def test_jpeg_headers_with_a_script_as_image_data_are_refused():
    assert refused(jpeg_headers() + PHP) == "Die Datei ist beschädigt oder kein Foto."


def test_jpeg_headers_with_a_script_that_still_decodes_keep_only_pixels():
    # With an end marker libjpeg decodes the script as (grey) image data: what is stored is
    # a new JPEG of those pixels, never the uploaded bytes.
    photo = process(jpeg_headers() + PHP * 50 + b"\xff\xd9")
    assert b"<?php" not in photo.data
    assert_clean(photo.data)


@pytest.mark.parametrize(
    "upload",
    [
        pytest.param(encode(marked(), "PNG") + PHP, id="png-with-appended-script"),
        pytest.param(encode(marked(), "JPEG") + PHP, id="jpeg-with-appended-script"),
        pytest.param(encode(marked(), "JPEG", comment=PHP), id="jpeg-comment-script"),
        pytest.param(encode(marked(), "JPEG", xmp=PHP), id="jpeg-xmp-script"),
    ],
)
def test_real_image_carrying_a_payload_is_accepted_without_it(upload):
    photo = process(upload)
    assert b"<?php" not in photo.data
    assert b"<?php" not in photo.thumbnail
    assert_clean(photo.data)


def test_png_bomb_is_refused_from_its_header(monkeypatch):
    bomb = png_claiming(8000, 6000)
    assert len(bomb) < 50_000
    decoded = []
    original_load = ImageFile.ImageFile.load

    def recording_load(self):
        decoded.append(self.size)
        return original_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", recording_load)
    started = time.perf_counter()

    assert refused(bomb) == "Das Foto hat zu viele Bildpunkte."

    assert time.perf_counter() - started < 1
    assert decoded == []


@pytest.mark.parametrize(
    ("size", "pillows_reason"),
    [
        pytest.param((10_000, 10_000), Image.DecompressionBombWarning, id="pillow-warns"),
        pytest.param((20_000, 10_000), Image.DecompressionBombError, id="pillow-raises"),
    ],
)
def test_pillow_bomb_limits_refuse_like_ours_and_never_warn(size, pillows_reason):
    # max_pixels above Pillow's own limit: Pillow's warning or error becomes our message.
    with pytest.raises(PhotoError, match="^Das Foto hat zu viele Bildpunkte.$") as caught:
        process(png_claiming(*size), max_pixels=10**10)
    assert isinstance(caught.value.__cause__, pillows_reason)


def test_max_pixels_boundary():
    upload = encode(marked((100, 50)), "PNG")
    assert process(upload, max_pixels=5000).width == 100
    assert refused(upload, max_pixels=4999) == "Das Foto hat zu viele Bildpunkte."


class CountingStream(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.delivered = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.delivered += len(chunk)
        return chunk


def test_oversized_upload_is_refused_after_reading_one_byte_too_many():
    stream = CountingStream(b"\xff" * (12 * MB))
    with pytest.raises(PhotoError) as caught:
        process_photo(stream, max_bytes=10 * MB, max_pixels=40_000_000)
    assert str(caught.value) == "Das Foto ist zu groß (höchstens 10 MB)."
    assert stream.delivered == 10 * MB + 1


def test_upload_of_exactly_max_bytes_is_accepted():
    upload = encode(marked(), "PNG")
    assert process(upload, max_bytes=len(upload)).width == 300
    assert "zu groß" in refused(upload, max_bytes=len(upload) - 1)


@pytest.mark.parametrize(
    ("max_bytes", "label"), [(10 * MB, "10 MB"), (10_000_000, "9 MB"), (512 * 1024, "512 kB")]
)
def test_size_message_names_the_limit(max_bytes, label):
    assert refused(b"\0" * (max_bytes + 1), max_bytes=max_bytes) == (
        f"Das Foto ist zu groß (höchstens {label})."
    )


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "HEIF"])
def test_truncated_file_is_refused_cleanly(fmt):
    upload = encode(Image.effect_noise((400, 300), 50).convert("RGB"), fmt)
    assert refused(upload[: len(upload) // 2]) == "Die Datei ist beschädigt oder kein Foto."


def test_message_is_usable_outside_and_inside_a_request():
    german = "Bitte laden Sie ein Foto im Format JPEG, PNG, WebP oder HEIC hoch."
    assert refused(b"GIF89a") == german
    app = Flask(__name__)
    Babel(app, locale_selector=lambda: "de")
    with app.test_request_context():
        with pytest.raises(PhotoError) as caught:
            process(b"GIF89a")
        assert str(caught.value) == german


# --- storage ---------------------------------------------------------------------------------


@pytest.fixture
def stored(tmp_path: Path) -> tuple[Path, str, str]:
    upload_dir = tmp_path / "instance" / "uploads"
    image = Image.new("RGB", (400, 300), (200, 180, 40))
    name, thumb_name = save_photo(process(encode(image, "PNG")), upload_dir)
    return upload_dir, name, thumb_name


def test_save_photo_creates_the_directory_and_writes_both_files(stored):
    upload_dir, name, thumb_name = stored
    assert opened(photo_path(upload_dir, name).read_bytes()).size == (400, 300)
    assert opened(photo_path(upload_dir, thumb_name).read_bytes()).size == (400, 300)
    assert sorted(p.name for p in upload_dir.iterdir()) == sorted([name, thumb_name])


def test_save_photo_names_are_random(tmp_path):
    photo = process(encode(marked(), "PNG"))
    names = [save_photo(photo, tmp_path) for _ in range(20)]
    assert len({name for pair in names for name in pair}) == 40
    for name, thumb_name in names:
        assert len(name.removesuffix(".jpg")) == 32
        assert name != thumb_name


@pytest.mark.parametrize(
    "name",
    [
        "../x",
        "../" + "a" * 32 + ".jpg",
        "/etc/passwd",
        "/" + "a" * 32 + ".jpg",
        "a" * 32 + ".jpg/../../x",
        "a" * 32 + ".jpg\n",
        "a" * 32 + ".php",
        "A" * 32 + ".jpg",
        "a" * 31 + ".jpg",
        "x.jpg",
        "",
        ".",
        "..",
    ],
)
def test_photo_path_refuses_anything_it_did_not_make(tmp_path, name):
    with pytest.raises(ValueError):
        photo_path(tmp_path, name)


def test_photo_path_accepts_its_own_names(stored):
    upload_dir, name, thumb_name = stored
    assert photo_path(upload_dir, name) == upload_dir / name
    assert photo_path(upload_dir, thumb_name) == upload_dir / thumb_name


def test_redact_blacks_out_the_rectangle_and_removes_the_original(stored):
    upload_dir, name, thumb_name = stored

    new_name, new_thumb = redact(upload_dir, name, [(50, 40, 150, 120), (350, 250, 999, 999)])

    assert {new_name, new_thumb}.isdisjoint({name, thumb_name})
    assert sorted(p.name for p in upload_dir.iterdir()) == sorted([new_name, new_thumb])
    image = opened(photo_path(upload_dir, new_name).read_bytes())
    assert image.size == (400, 300)
    for xy in [(52, 42), (100, 80), (147, 117), (360, 260), (399, 299)]:
        assert max(image.getpixel(xy)) < 30, xy
    for xy in [(10, 10), (45, 80), (155, 80), (100, 125), (300, 150), (340, 290)]:
        assert close_to(image.getpixel(xy), (200, 180, 40), 12), xy
    thumb = opened(photo_path(upload_dir, new_thumb).read_bytes())
    assert max(thumb.getpixel((100, 80))) < 30
    assert_clean(photo_path(upload_dir, new_name).read_bytes())


@pytest.mark.parametrize(
    "rectangles", [[(500, 10, 600, 20)], [(10, 10, 10, 20)], [(30, 30, 20, 40)]]
)
def test_redact_refuses_rectangles_without_pixels_and_changes_nothing(stored, rectangles):
    upload_dir, name, thumb_name = stored
    before = photo_path(upload_dir, name).read_bytes()
    with pytest.raises(ValueError):
        redact(upload_dir, name, rectangles)
    assert photo_path(upload_dir, name).read_bytes() == before
    assert sorted(p.name for p in upload_dir.iterdir()) == sorted([name, thumb_name])


def test_redact_takes_the_photo_not_its_thumbnail(stored):
    upload_dir, _name, thumb_name = stored
    with pytest.raises(ValueError):
        redact(upload_dir, thumb_name, [(0, 0, 10, 10)])
