"""Read the mail the app wrote to ``instance/mail/`` (no ``MAIL_SERVER`` in tests)."""

from __future__ import annotations

import email
import email.policy
import re
import time
from email.message import EmailMessage
from pathlib import Path

LINK_RE = re.compile(r"https?://[^\s<>\"']+")


class Mailbox:
    """The ``.eml`` files the app wrote to ``instance/mail/`` since this mailbox was opened."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._seen = {p.name for p in self._files()}

    def _files(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return sorted(self.folder.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)

    def messages(self, to: str | None = None) -> list[EmailMessage]:
        """New messages, oldest first; ``to`` keeps those addressed to that recipient."""
        found = []
        for path in self._files():
            if path.name in self._seen:
                continue
            msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if to is None or to.lower() in str(msg["To"]).lower():
                found.append(msg)
        return found

    def latest(self, to: str | None = None, timeout: float = 5.0) -> EmailMessage:
        """The newest new message (to ``to``), waiting up to ``timeout`` s for a queued job."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.messages(to)
            if found:
                return found[-1]
            if time.monotonic() > deadline:
                raise AssertionError(f"no mail to {to or 'anyone'} within {timeout} s")
            time.sleep(0.05)

    @staticmethod
    def text(msg: EmailMessage) -> str:
        return msg.get_body(preferencelist=("plain",)).get_content()

    @classmethod
    def links(cls, msg: EmailMessage) -> list[str]:
        """Every http(s) link in the plain-text body, in order."""
        return [link.rstrip(".,;)") for link in LINK_RE.findall(cls.text(msg))]
