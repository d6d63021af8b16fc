"""Resource photos: every upload is decoded and re-encoded, so only clean JPEGs are served."""

from __future__ import annotations

import uuid
from pathlib import Path

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

register_heif_opener()


class NotAnImage(ValueError):
    pass


def photo_dir() -> Path:
    """The folder of resource photos (created on first use)."""
    folder = Path(
        current_app.config["BUCHUNG_PHOTO_DIR"] or Path(current_app.instance_path) / "buchung-fotos"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def store_photo(stream) -> str:
    """Re-encode an uploaded image as a JPEG without metadata; returns its file name."""
    try:
        with Image.open(stream) as image:
            image = ImageOps.exif_transpose(image).convert("RGB")
            size = current_app.config["BUCHUNG_PHOTO_MAX_PX"]
            image.thumbnail((size, size))
            name = f"{uuid.uuid4().hex}.jpg"
            image.save(photo_dir() / name, "JPEG", quality=85, optimize=True)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise NotAnImage(str(exc)) from exc
    return name


def delete_photo(filename: str) -> None:
    """Remove a photo file; a missing file is fine."""
    (photo_dir() / filename).unlink(missing_ok=True)
