"""A report being written: what the citizen typed and the photos they chose, kept between steps.

Going back from step 3 to change the place or the category, or a form sent back with a
mistake, must not cost the citizen their description, contact data, answers or photos, and
the photo that placed the pin (photo-first) belongs to the report.  Browsers never keep
chosen files, so the server keeps them: one folder per draft under the instance folder,
named by 128 random bits held in the citizen's (signed) session cookie.  Photos are stored
already re-encoded, as every upload is; the sweep deletes drafts left for a day.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app, session

from mangel.photos import ProcessedPhoto, save_photo

SESSION_KEY = "mangel_draft"
MAX_AGE_SECONDS = 24 * 3600
_ID_RE = re.compile(r"^[0-9a-f]{32}$")
# The fields of step 3 a draft keeps; the category's questions ("q_…") come along too.
TEXT_FIELDS = ("description", "name", "email", "phone", "consent")


def drafts_dir() -> Path:
    return Path(current_app.instance_path) / "drafts"


@dataclass
class DraftPhoto:
    name: str
    thumb: str
    width: int
    height: int


@dataclass
class Draft:
    """The citizen's unfinished report; ``folder`` holds ``draft.json`` and the photos."""

    folder: Path
    fields: dict = field(default_factory=dict)
    photos: list[DraftPhoto] = field(default_factory=list)

    def save(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        body = {"fields": self.fields, "photos": [vars(p) for p in self.photos]}
        (self.folder / "draft.json").write_text(json.dumps(body))

    def add_photo(self, processed: ProcessedPhoto) -> None:
        name, thumb = save_photo(processed, self.folder)
        self.photos.append(DraftPhoto(name, thumb, processed.width, processed.height))

    def drop_photos(self, names: list[str]) -> None:
        for photo in [p for p in self.photos if p.name in names]:
            for name in (photo.name, photo.thumb):
                (self.folder / name).unlink(missing_ok=True)
            self.photos.remove(photo)

    def processed_photos(self) -> list[ProcessedPhoto]:
        """The kept photos, ready to be stored with the report like fresh uploads."""
        return [
            ProcessedPhoto(
                data=(self.folder / p.name).read_bytes(),
                thumbnail=(self.folder / p.thumb).read_bytes(),
                width=p.width,
                height=p.height,
                content_type="image/jpeg",
                gps=None,
            )
            for p in self.photos
            if (self.folder / p.name).is_file() and (self.folder / p.thumb).is_file()
        ]

    def file(self, name: str) -> Path | None:
        """A kept photo or thumbnail of this draft by name, else ``None``."""
        for photo in self.photos:
            if name in (photo.name, photo.thumb):
                return self.folder / name
        return None


def current(create: bool = False) -> Draft | None:
    """The draft of this browser session; a new one with ``create``."""
    draft_id = session.get(SESSION_KEY)
    if isinstance(draft_id, str) and _ID_RE.fullmatch(draft_id):
        folder = drafts_dir() / draft_id
        try:
            body = json.loads((folder / "draft.json").read_text())
        except (OSError, ValueError):
            body = None
        if body is not None:
            return Draft(
                folder,
                body.get("fields", {}),
                [DraftPhoto(**p) for p in body.get("photos", [])],
            )
    if not create:
        return None
    draft_id = secrets.token_hex(16)
    session[SESSION_KEY] = draft_id
    draft = Draft(drafts_dir() / draft_id)
    draft.save()
    return draft


def discard() -> None:
    """Forget this session's draft (the report is stored, or the citizen starts anew)."""
    draft_id = session.pop(SESSION_KEY, None)
    if isinstance(draft_id, str) and _ID_RE.fullmatch(draft_id):
        shutil.rmtree(drafts_dir() / draft_id, ignore_errors=True)


def purge_old(now: float | None = None) -> int:
    """Delete drafts nobody touched for a day; returns how many.  Runs from the sweep."""
    folder = drafts_dir()
    if not folder.is_dir():
        return 0
    limit = (now or time.time()) - MAX_AGE_SECONDS
    purged = 0
    for draft in folder.iterdir():
        json_file = draft / "draft.json"
        stamp = json_file.stat().st_mtime if json_file.exists() else draft.stat().st_mtime
        if stamp < limit:
            shutil.rmtree(draft, ignore_errors=True)
            purged += 1
    return purged
