"""The council's figures as CSV and PDF: hours a week requested versus allocated."""

from __future__ import annotations

from flask_babel import gettext as _
from fpdf import FPDF

from buchung.allocation.models import AllocationRound
from buchung.allocation.services import Figure, figures
from lotse.csvutil import csv_text

PDF_SAFE = str.maketrans({"–": "-", "„": '"', "“": '"', "”": '"', "’": "'", "…": "..."})


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
    return csv_text(_headers(by), _rows(round_, by))


def _rows(round_: AllocationRound, by: str) -> list[list[str]]:
    """One row per hall or applicant, then the total."""
    found = figures(round_, by)
    total = Figure(_("Summe"), sum(f.requested for f in found), sum(f.allocated for f in found))
    return [_cells(f) for f in [*found, total]]


def _pdf_text(text: str) -> str:
    return text.translate(PDF_SAFE).encode("latin-1", "replace").decode("latin-1")


def figures_pdf(round_: AllocationRound) -> bytes:
    """One A4 page (or more) with both tables: per hall and per applicant."""
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_title(_pdf_text(round_.name))
    pdf.set_font("Helvetica", "B", 15)
    pdf.cell(
        0,
        10,
        _pdf_text(_("Saisonvergabe: %(name)s", name=round_.name)),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(
        0,
        6,
        _pdf_text(
            _(
                "%(season)s: %(first)s bis %(last)s",
                season=round_.season.name,
                first=round_.season.first_day.strftime("%d.%m.%Y"),
                last=round_.season.last_day.strftime("%d.%m.%Y"),
            )
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    for by, title in (("hall", _("Je Halle")), ("club", _("Je Antragsteller"))):
        pdf.ln(4)
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(0, 8, _pdf_text(title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 9)
        with pdf.table(
            col_widths=(70, 40, 40, 20), text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT")
        ) as table:
            table.row([_pdf_text(h) for h in _headers(by)])
            for row in _rows(round_, by):
                table.row([_pdf_text(c) for c in row])
    return bytes(pdf.output())
