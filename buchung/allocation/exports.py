"""The council's figures as CSV and PDF: hours a week requested versus allocated."""

from __future__ import annotations

from flask_babel import gettext as _

from buchung.allocation.models import AllocationRound
from buchung.allocation.publishing import RoundCheck, check
from buchung.allocation.services import Figure, figures
from buchung.clock import to_local
from lotse.csvutil import csv_text
from lotse.pdf import render_pdf


def _headers(by: str) -> list[str]:
    return [
        _("Halle") if by == "hall" else _("Antragsteller"),
        _("Stunden pro Woche beantragt"),
        _("Stunden pro Woche zugeteilt"),
        _("Anteil"),
        _("Termine gebucht"),
        _("Termine fallen aus"),
        _("Stunden in der Saison gebucht"),
    ]


def _cells(figure: Figure) -> list[str]:
    return [
        figure.label,
        figure.requested_hours,
        figure.allocated_hours,
        figure.share,
        str(figure.booked_dates),
        str(figure.lost_dates),
        figure.booked_hours,
    ]


def figures_csv(round_: AllocationRound, by: str) -> str:
    """Semicolon-separated (German spreadsheet default) with a header row."""
    return csv_text(_headers(by), _rows(round_, by))


def _rows(round_: AllocationRound, by: str, result: RoundCheck | None = None) -> list[list[str]]:
    """One row per hall or applicant, then the total."""
    found = figures(round_, by, result)
    total = Figure(
        _("Summe"),
        sum(f.requested for f in found),
        sum(f.allocated for f in found),
        sum(f.booked_dates for f in found),
        sum(f.lost_dates for f in found),
        sum(f.booked_minutes for f in found),
    )
    return [_cells(f) for f in [*found, total]]


def figure_tables(round_: AllocationRound) -> list[tuple[str, list[str], list[list[str]]]]:
    """Both tables for the council: (title, headers, rows) per hall and per applicant."""
    result = check(round_)
    return [
        (title, _headers(by), _rows(round_, by, result))
        for by, title in (("hall", _("Je Halle")), ("club", _("Je Antragsteller")))
    ]


def figure_state(round_: AllocationRound) -> str:
    """Whether the dates are booked already or what publishing would book."""
    if round_.published:
        return _(
            "Termine und Stunden: gebucht bei der Veröffentlichung am %(day)s.",
            day=to_local(round_.published_at).strftime("%d.%m.%Y"),
        )
    return _(
        "Noch nicht veröffentlicht: Termine und Stunden, die die Veröffentlichung buchen würde."
    )


def figures_pdf(round_: AllocationRound) -> bytes:
    """The council's figures page (both tables), printed as a tagged PDF."""
    return render_pdf(
        "buchung/allocation/admin/figures.html",
        round=round_,
        tables=figure_tables(round_),
        state=figure_state(round_),
    )
