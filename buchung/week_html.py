"""The rows of the week grid as HTML, written in one pass.

A week of a hall open 06–23 has about 240 cells; a template spends most of a request on
them (a test, an ``if``, escaping and a lookup per cell).  Here each cell is one string
format with the labels, day names and link prefix resolved once per page.  The markup is
the one ``templates/buchung/_week_grid.html`` wraps: a real table, no booker names.
"""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from markupsafe import Markup, escape

from buchung.clock import format_hhmm
from buchung.forms import CELL_LABELS
from buchung.services.availability import Grid
from lotse.formatting import date_formatter

FREE_LINK = (
    '<td class="cell cell--free"><a href="{url}?start={start}">{label}'
    '<span class="visually-hidden">: {day} {time} {book}</span></a></td>'
)
CELL = '<td class="cell cell--{state}">{label}</td>'
CELL_WITH_NOTE = (
    '<td class="cell cell--{state}" title="{note}">{label}'
    '<span class="visually-hidden">: {note}</span></td>'
)


def week_rows(grid: Grid, bookable: bool) -> Markup:
    """``<tr>`` rows of the grid: one per start time, one cell per day."""
    labels = {state: escape(str(label)) for state, label in CELL_LABELS.items()}
    day_name = date_formatter("EEEE dd.MM.")
    days = [escape(day_name(day)) for day in grid.days]
    book_url = escape(url_for("buchung.book", resource_id=grid.resource.id))
    book_word = escape(_("buchen"))
    skipped = (
        '<td class="cell cell--outside">–<span class="visually-hidden"> '
        f"{escape(_('Zeitumstellung'))}</span></td>"
    )
    rows = []
    for minute, cells in grid.rows:
        time = format_hhmm(minute)
        parts = [f'<tr>\n      <th scope="row">{time}</th>']
        for index, cell in enumerate(cells):
            if cell is None:
                parts.append(skipped)
            elif cell.state == "free" and bookable:
                parts.append(
                    FREE_LINK.format(
                        url=book_url,
                        start=cell.start_param,
                        label=labels["free"],
                        day=days[index],
                        time=time,
                        book=book_word,
                    )
                )
            elif cell.note:
                parts.append(
                    CELL_WITH_NOTE.format(
                        state=cell.state, note=escape(cell.note), label=labels[cell.state]
                    )
                )
            else:
                parts.append(CELL.format(state=cell.state, label=labels[cell.state]))
        parts.append("</tr>")
        rows.append("".join(parts))
    return Markup("\n".join(rows))  # noqa: S704 - every value above is escaped
