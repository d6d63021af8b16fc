"""Photos of a report: accepted by content, checked, cleaned, stored under random names.

Decisions (issue 3):

- **Format by content only.** ``Image.open`` is limited to the JPEG, PNG, WebP and HEIF
  plugins, each of which recognises a file by its magic bytes; the file name and the
  Content-Type the browser sent are never looked at.
- **Polyglots.** Content that none of those plugins recognises (``x.jpg.php`` with PHP in it,
  a GIF header glued to a script) is refused as a wrong format; a recognised header whose
  data does not decode (JPEG headers glued to a script) is refused as broken. Whatever does
  decode is accepted *after re-encoding*: a real photo with a payload appended, in a comment
  or in a metadata block, or a script that libjpeg happens to decode as grey pixels. Only the
  decoded pixels are written into a new JPEG, so no byte of the upload reaches the disk.
- **Bombs.** Width × height from the header is checked against ``max_pixels`` before any pixel
  is decoded. Pillow's own limit (``Image.MAX_IMAGE_PIXELS``, about 89 megapixels) stays in
  force above ours, and its warning is turned into the same refusal instead of a log line.
- **Metadata.** Orientation is applied, the GPS position is read, then everything else is
  dropped: EXIF, XMP, comments and the ICC profile. Pixels with an ICC profile (Display P3
  from phones, for instance) are converted to sRGB first so that colours stay right; a profile
  that does not parse or does not fit the pixels is ignored.
- **HEIC** is read through pillow-heif, which applies the HEIF rotation itself and resets the
  EXIF orientation, so it is never applied twice.
"""

from __future__ import annotations

import contextlib
import io
import re
import secrets
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pillow_heif
from flask_babel import lazy_gettext as _l
from PIL import ExifTags, Image, ImageCms, ImageOps

pillow_heif.register_heif_opener()

CONTENT_TYPE = "image/jpeg"
MAX_SIDE = 2048
THUMB_SIDE = 400
JPEG_QUALITY = 85
THUMB_QUALITY = 80
# A JPEG is decoded at 1/2, 1/4 or 1/8 of its size by libjpeg's DCT scaling as long as that
# keeps at least this share of MAX_SIDE: a 4000 × 3000 photo then decodes straight to
# 2000 × 1500, about three times faster than decoding it whole and resampling to 2048 px
# (bench/bench_photos.py). At 1.0 a photo is never decoded smaller than MAX_SIDE.
DRAFT_MIN_SHARE = 0.9

# Pillow's names; a camera JPEG with extra frames (many phones write them) opens as MPO.
_OPEN_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
_ACCEPTED_FORMATS = {*_OPEN_FORMATS, "MPO"}
_NAME_RE = re.compile(r"(?P<token>[0-9a-f]{32})(?P<thumb>_t)?\.jpg")
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
# warnings.catch_warnings swaps process-wide state: concurrent uploads must not interleave it.
_OPEN_LOCK = threading.Lock()

WRONG_FORMAT = _l("Bitte laden Sie ein Foto im Format JPEG, PNG, WebP oder HEIC hoch.")
TOO_MANY_PIXELS = _l("Das Foto hat zu viele Bildpunkte.")
BROKEN = _l("Die Datei ist beschädigt oder kein Foto.")


class PhotoError(ValueError):
    """An upload the citizen has to replace; ``str(exc)`` is the message for the form field."""


@dataclass(frozen=True)
class ProcessedPhoto:
    data: bytes
    thumbnail: bytes
    width: int
    height: int
    content_type: str
    gps: tuple[float, float] | None


def process_photo(stream: BinaryIO, *, max_bytes: int, max_pixels: int) -> ProcessedPhoto:
    """Turn an uploaded photo into an upright JPEG without metadata, plus a thumbnail.

    Reads at most ``max_bytes + 1`` bytes. Raises PhotoError when the upload is too large,
    not a JPEG, PNG, WebP or HEIC image, has more than ``max_pixels`` pixels, or is broken.
    """
    image = _open(_read(stream, max_bytes), max_pixels)
    gps = _gps(image)
    try:
        full = _clean(image)
    except Exception as exc:
        # Pillow's decoders meet hostile input with many kinds of exception; to the citizen
        # every one of them means the same: this file cannot be used.
        raise PhotoError(BROKEN) from exc
    return _encoded(full, gps)


def photo_gps(stream: BinaryIO, *, max_bytes: int, max_pixels: int) -> tuple[float, float] | None:
    """The camera's (lat, lon) of an uploaded photo, read from its header alone.

    No pixel is decoded: the citizen who only wants the pin placed costs us a header parse,
    not seconds of a worker.  Raises PhotoError like ``process_photo`` for unusable files.
    """
    return _gps(_open(_read(stream, max_bytes), max_pixels))


def save_photo(processed: ProcessedPhoto, upload_dir: Path) -> tuple[str, str]:
    """Store a processed photo and its thumbnail under new random names.

    Creates ``upload_dir`` if needed and returns ``(name, thumb_name)``. Both names carry the
    same 128 random bits (``<hex>.jpg``, ``<hex>_t.jpg``), so ``redact`` finds the thumbnail.
    """
    upload_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(16)
    name, thumb_name = f"{token}.jpg", f"{token}_t.jpg"
    written: list[Path] = []
    try:
        for path, content in (
            (upload_dir / name, processed.data),
            (upload_dir / thumb_name, processed.thumbnail),
        ):
            # "x": a name is never reused, not even by a one-in-2**128 chance.
            with path.open("xb") as fh:
                written.append(path)
                fh.write(content)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return name, thumb_name


def photo_path(upload_dir: Path, name: str) -> Path:
    """The file of a stored photo or thumbnail name.

    Raises ValueError for any name that ``save_photo`` cannot have made, so a request can never
    reach another file (``../x``, absolute paths, other extensions).
    """
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise ValueError(f"not a photo name: {name!r}")
    return upload_dir / name


def redact(
    upload_dir: Path, name: str, rectangles: list[tuple[int, int, int, int]]
) -> tuple[str, str]:
    """Black out rectangles on a stored photo (e.g. faces, number plates) before release.

    Rectangles are ``(left, top, right, bottom)`` in pixels of the stored photo, right and
    bottom exclusive, clipped to the photo. The redacted photo and a new thumbnail are stored
    under new random names, then the unredacted files are deleted; returns the new
    ``(name, thumb_name)`` for the caller to store. Raises ValueError for a thumbnail or unknown
    name and for a rectangle that covers no pixel of the photo.
    """
    path = photo_path(upload_dir, name)
    match = _NAME_RE.fullmatch(name)
    if match["thumb"]:
        raise ValueError(f"redact the photo, not its thumbnail: {name!r}")
    with Image.open(path, formats=["JPEG"]) as stored:
        image = stored.convert("RGB")
    for left, top, right, bottom in rectangles:
        box = (max(left, 0), max(top, 0), min(right, image.width), min(bottom, image.height))
        if box[0] >= box[2] or box[1] >= box[3]:
            raise ValueError(
                f"rectangle covers no pixel of the photo: {(left, top, right, bottom)}"
            )
        image.paste((0, 0, 0), box)
    new_names = save_photo(_encoded(image, gps=None), upload_dir)
    path.unlink()
    photo_path(upload_dir, f"{match['token']}_t.jpg").unlink(missing_ok=True)
    return new_names


def _size_label(max_bytes: int) -> str:
    # Rounded down, so a file of the size named is never refused.
    if max_bytes >= 2**20:
        return f"{max_bytes // 2**20} MB"
    return f"{max_bytes // 2**10} kB"


def _read(stream: BinaryIO, max_bytes: int) -> bytes:
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise PhotoError(
            _l("Das Foto ist zu groß (höchstens %(size)s).", size=_size_label(max_bytes))
        )
    return data


def _open(data: bytes, max_pixels: int) -> Image.Image:
    """Identify the format and read the size from the header, without decoding pixels."""
    try:
        with _OPEN_LOCK, warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=_OPEN_FORMATS)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise PhotoError(TOO_MANY_PIXELS) from exc
    except Image.UnidentifiedImageError as exc:
        raise PhotoError(WRONG_FORMAT) from exc
    except Exception as exc:
        raise PhotoError(BROKEN) from exc
    if image.format not in _ACCEPTED_FORMATS:
        raise PhotoError(WRONG_FORMAT)
    if image.width * image.height > max_pixels:
        raise PhotoError(TOO_MANY_PIXELS)
    return image


def _gps(image: Image.Image) -> tuple[float, float] | None:
    """The camera's (lat, lon) from EXIF, or None.

    Read from the EXIF block the header parse found (``image.getexif()`` of a PNG would
    decode every pixel to look for a block after the image data; such a block is ignored).
    """
    try:
        exif = Image.Exif()
        exif.load(image.info.get("exif") or b"")
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        lat = _degrees(gps[ExifTags.GPS.GPSLatitude], gps[ExifTags.GPS.GPSLatitudeRef], "S")
        lon = _degrees(gps[ExifTags.GPS.GPSLongitude], gps[ExifTags.GPS.GPSLongitudeRef], "W")
    except Exception:
        # A missing or malformed GPS block only means that no pin is offered.
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):  # also false for NaN
        return None
    return lat, lon


def _degrees(dms: tuple, ref: str | bytes, negative: str) -> float:
    degrees, minutes, seconds = (float(part) for part in dms)
    value = degrees + minutes / 60 + seconds / 3600
    if isinstance(ref, bytes):
        ref = ref.decode("ascii")
    return -value if ref.strip().upper() == negative else value


def _clean(image: Image.Image) -> Image.Image:
    """Decode, turn upright, convert to sRGB on white, fit into MAX_SIDE, drop all metadata."""
    if image.format in ("JPEG", "MPO"):
        scale = min(1.0, MAX_SIDE / max(image.size)) * DRAFT_MIN_SHARE
        image.draft("RGB", (max(1, int(image.width * scale)), max(1, int(image.height * scale))))
    image = ImageOps.exif_transpose(image)
    image = _srgb(image)
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    # The JPEG encoder would copy a comment from info: nothing of the upload may travel along.
    image.info = {}
    return image


def _srgb(image: Image.Image) -> Image.Image:
    """RGB pixels in sRGB, transparency flattened onto white."""
    icc = image.info.get("icc_profile")
    if image.mode.startswith("I"):
        # 16-bit greyscale PNG: scale to 8 bits, a plain conversion would clip to white.
        image = image.point(lambda value: value / 256).convert("L")
    if image.has_transparency_data:
        rgba = image.convert("RGBA")
        image = Image.new("RGB", rgba.size, "white")
        image.paste(rgba, mask=rgba.getchannel("A"))
    if icc:
        with contextlib.suppress(ImageCms.PyCMSError, OSError, ValueError, TypeError):
            return ImageCms.profileToProfile(image, io.BytesIO(icc), _SRGB, outputMode="RGB")
    return image.convert("RGB")


def _encoded(image: Image.Image, gps: tuple[float, float] | None) -> ProcessedPhoto:
    thumb = image.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    return ProcessedPhoto(
        data=_jpeg(image, JPEG_QUALITY),
        thumbnail=_jpeg(thumb, THUMB_QUALITY),
        width=image.width,
        height=image.height,
        content_type=CONTENT_TYPE,
        gps=gps,
    )


def _jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()
