"""The council's figures as CSV and PDF: hours a week requested versus allocated."""

from __future__ import annotations

import csv
import io

from flask_babel import gettext as _

from buchung.allocation.models import AllocationRound
from buchung.allocation.services import Figure, figures
from lotse.pdf import render_pdf


def _headers(by: str) -> list[str]:
    return [
        _("Halle") if by == "hall" else _("Antragsteller"),
        _("Stunden pro Woche beantragt"),
        _("Stunden pro Woche zugeteilt"),
        _("Anteil"),
    ]


def _cells(figure: Figure) -> list[str]:
    return [figure.label, figure.requested_hours, figure.allocated_hours, figure.share]


def figures_csv(round_: AllocationRound, by: str) -> str:
    """Semicolon-separated (German spreadsheet default) with a header row."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(_headers(by))
    writer.writerows(_rows(round_, by))
    return out.getvalue()


def _rows(round_: AllocationRound, by: str) -> list[list[str]]:
    """One row per hall or applicant, then the total."""
    found = figures(round_, by)
    total = Figure(_("Summe"), sum(f.requested for f in found), sum(f.allocated for f in found))
    return [_cells(f) for f in [*found, total]]


def figure_tables(round_: AllocationRound) -> list[tuple[str, list[str], list[list[str]]]]:
    """Both tables for the council: (title, headers, rows) per hall and per applicant."""
    return [
        (title, _headers(by), _rows(round_, by))
        for by, title in (("hall", _("Je Halle")), ("club", _("Je Antragsteller")))
    ]


def figures_pdf(round_: AllocationRound) -> bytes:
    """The council's figures page (both tables), printed as a tagged PDF."""
    return render_pdf(
        "buchung/allocation/admin/figures.html", round=round_, tables=figure_tables(round_)
    )
