"""Reading what a fee page, mail or PDF says, for the fee tests."""

from __future__ import annotations

import html
import io
import re

from pypdf import PdfReader


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def flat(text: str) -> str:
    return " ".join(text.split())


def page_text(response) -> str:
    """The visible text of a page (tags dropped), whitespace collapsed."""
    return flat(html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def sign_out(client) -> None:
    """Forget the club's session, as a new browser would."""
    client._cookies.clear()
