"""CSV for staff exports that spreadsheets open without running what citizens typed."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

# A cell starting with one of these is read as a formula by Excel and LibreOffice
# (``=HYPERLINK(...)``, ``+cmd|...``, ``@SUM(...)``); tab and CR start one after a separator.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """``value`` itself, unless it is text a spreadsheet would run: then with a leading ``'``.

    Numbers stay numbers (a negative amount is no formula); only text is quoted.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_text(
    header: Iterable[object], rows: Iterable[Iterable[object]], delimiter: str = ";"
) -> str:
    """Semicolon-separated (the German spreadsheet default; a comma for exports meant for
    other systems) with a header row, every text cell neutralised: the one writer behind
    every staff CSV export."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow([safe_cell(cell) for cell in header])
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return out.getvalue()
