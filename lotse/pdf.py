"""PDFs are the pages' own HTML templates printed by WeasyPrint: one document, one source.

Every PDF is tagged (PDF/UA-1): a structure tree from the HTML, the page's language from
``<html lang>`` and its title from ``<title>``, so screen readers read it as they read the
page.  WeasyPrint needs Pango (Debian: ``libpango-1.0-0 libpangoft2-1.0-0``).
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from flask import current_app, render_template, request
from PIL import ImageFile
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse
from werkzeug.security import safe_join

# WeasyPrint switches Pillow to accept truncated images for the whole process on import;
# the photo pipeline refuses broken uploads, so the switch goes back (our PDFs embed only
# images the pipeline wrote).
ImageFile.LOAD_TRUNCATED_IMAGES = False


class StaticFilesOnly(URLFetcher):
    """Stylesheets and images come from the app's static folder, never over the network."""

    def __init__(self, base_url: str, static_folder: str, static_url_path: str) -> None:
        super().__init__()
        self.prefix = base_url.rstrip("/") + static_url_path.rstrip("/") + "/"
        self.folder = static_folder

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        if url.startswith("data:"):  # images the page embeds itself (a report's photos)
            return super().fetch(url, headers)
        path = safe_join(self.folder, url.split("?")[0].removeprefix(self.prefix))
        if not url.startswith(self.prefix) or path is None or not Path(path).is_file():
            raise ValueError(f"not a static file of this app: {url}")
        content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
        return URLFetcherResponse(
            url, Path(path).read_bytes(), headers={"Content-Type": content_type}
        )


def render_pdf(template: str, **context) -> bytes:
    """The template rendered as a page would be, printed (print media) as a tagged PDF."""
    html = render_template(template, pdf=True, **context)
    base_url = request.host_url
    fetcher = StaticFilesOnly(
        base_url, current_app.static_folder or "", current_app.static_url_path or "/static"
    )
    document = HTML(string=html, base_url=base_url, url_fetcher=fetcher)
    return document.write_pdf(pdf_variant="pdf/ua-1", pdf_tags=True)
