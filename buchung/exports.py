"""How every booking CSV leaves: UTF-8 with a byte-order mark, so Excel opens umlauts right
(its default for a double-clicked ``.csv`` is the ANSI code page otherwise), semicolons as
German spreadsheets expect, German labels and numbers, never cached."""

from __future__ import annotations

from flask import Response

BOM = "\ufeff"


def csv_download(text: str, filename: str) -> Response:
    """``text`` (from ``lotse.csvutil.csv_text``) as a download named ``filename``."""
    return Response(
        BOM + text,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
