"""The rows of the week grid and of the phone's day list as HTML, written in one pass.

A week of a hall open 06–23 has about 240 cells; a template spends most of a request on
them (a test, an ``if``, escaping and a lookup per cell).  Here each cell is one string
format with the labels, day names and link prefix resolved once per page.  The markup is
the one ``templates/buchung/_week_grid.html`` wraps: a real table, no booker names.

Rows in which no day is open are left out, and a run of cells in one state that cannot be
booked ("nicht geöffnet", "vergangen", "belegt", one closure) is one cell spanning its rows, so a
hall open from 16:00 shows no column of sixteen "nicht geöffnet".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import url_for
from flask_babel import gettext as _
from markupsafe import Markup, escape

from buchung.clock import format_hhmm, minute_of_day
from buchung.forms import CELL_LABELS
from buchung.services.availability import Cell, Grid
from lotse.formatting import date_formatter

LINK = (
    '<td class="cell cell--{state}"><a href="{url}?start={start}">{label}'
    '<span class="visually-hidden">: {day} {time} {action}</span></a></td>'
)
CELL = '<td class="cell cell--{state}"{span}>{label}</td>'
CELL_WITH_NOTE = (
    '<td class="cell cell--{state}"{span} title="{note}">{label}'
    '<span class="visually-hidden">: {note}</span></td>'
)
MERGED = ("outside", "past", "closed", "booked")  # runs of these are one cell


def _key(cell: Cell | None) -> tuple[str, str] | None:
    return (cell.state, cell.note) if cell is not None and cell.state in MERGED else None


def visible_rows(grid: Grid) -> list[tuple[int, list[Cell | None]]]:
    """The grid's rows without those in which no day is open."""
    return [
        (minute, cells)
        for minute, cells in grid.rows
        if any(cell is not None and cell.state != "outside" for cell in cells)
    ]


def _spans(rows: list[tuple[int, list[Cell | None]]], columns: int) -> list[list[int]]:
    """Per row and day: how many rows the cell spans (0: covered by the cell above)."""
    spans = [[1] * columns for _row in rows]
    for column in range(columns):
        top = 0
        for index in range(1, len(rows) + 1):
            key = _key(rows[index][1][column]) if index < len(rows) else None
            if key is None or key != _key(rows[top][1][column]):
                if index - top > 1:
                    spans[top][column] = index - top
                    for covered in range(top + 1, index):
                        spans[covered][column] = 0
                top = index
    return spans


@dataclass(frozen=True)
class _Words:
    labels: dict
    book_url: str
    book: str
    choose_part: str
    skipped: str


def _words(grid: Grid) -> _Words:
    return _Words(
        labels={state: escape(str(label)) for state, label in CELL_LABELS.items()},
        book_url=escape(url_for("buchung.book", resource_id=grid.resource.id)),
        book=escape(_("buchen")),
        choose_part=escape(_("freien Hallenteil wählen")),
        skipped=(
            '<td class="cell cell--outside">–<span class="visually-hidden"> '
            f"{escape(_('Zeitumstellung'))}</span></td>"
        ),
    )


def _cell_html(cell: Cell | None, words: _Words, day: str, time: str, bookable: bool, span=1):
    if cell is None:
        return words.skipped
    if bookable and cell.state in ("free", "partial"):
        return LINK.format(
            url=words.book_url,
            start=cell.start_param,
            state=cell.state,
            label=words.labels[cell.state],
            day=day,
            time=time,
            action=words.book if cell.state == "free" else words.choose_part,
        )
    span_attr = f' rowspan="{span}"' if span > 1 else ""
    if cell.note:
        return CELL_WITH_NOTE.format(
            state=cell.state, span=span_attr, note=escape(cell.note), label=words.labels[cell.state]
        )
    return CELL.format(state=cell.state, span=span_attr, label=words.labels[cell.state])


def week_rows(grid: Grid, bookable: bool) -> Markup:
    """``<tr>`` rows of the grid: one per start time in which some day is open, one cell
    per day; runs of cells that cannot be booked merged into one."""
    words = _words(grid)
    day_name = date_formatter("EEEE dd.MM.")
    days = [escape(day_name(day)) for day in grid.days]
    rows = visible_rows(grid)
    spans = _spans(rows, len(grid.days))
    html = []
    for (minute, cells), row_spans in zip(rows, spans, strict=True):
        time = format_hhmm(minute)
        parts = [f'<tr>\n      <th scope="row">{time}</th>']
        for index, cell in enumerate(cells):
            if row_spans[index]:
                parts.append(_cell_html(cell, words, days[index], time, bookable, row_spans[index]))
        parts.append("</tr>")
        html.append("".join(parts))
    return Markup("\n".join(html))  # noqa: S704 - every value above is escaped


def _until(moment: datetime) -> str:
    return format_hhmm(minute_of_day(moment) or 1440)


def day_rows(grid: Grid, bookable: bool) -> Markup:
    """The first day of the grid for a phone: one row per bookable start time, and one row
    per run of taken, past or closed time ("18:00–20:00 belegt"); hours it is not open are
    left out (the heading says when it is)."""
    words = _words(grid)
    day = escape(date_formatter("EEEE dd.MM.")(grid.days[0]))
    cells = [cells[0] for _minute, cells in grid.rows]
    html = []
    index = 0
    while index < len(cells):
        cell = cells[index]
        if cell is None or cell.state == "outside":
            index += 1
            continue
        time = format_hhmm(minute_of_day(cell.starts_at))
        if bookable and cell.state in ("free", "partial"):
            html.append(
                f'<tr><th scope="row">{time}</th>{_cell_html(cell, words, day, time, True)}</tr>'
            )
            index += 1
            continue
        last = index
        while (
            last + 1 < len(cells)
            and cells[last + 1] is not None
            and (cells[last + 1].state, cells[last + 1].note) == (cell.state, cell.note)
        ):
            last += 1
        span = f"{time}–{_until(cells[last].ends_at)}"
        html.append(
            f'<tr><th scope="row">{span}</th>{_cell_html(cell, words, day, span, False)}</tr>'
        )
        index = last + 1
    if not html:
        html.append(f"<tr><td>{escape(_('An diesem Tag nicht geöffnet.'))}</td></tr>")
    return Markup("\n".join(html))  # noqa: S704 - every value above is escaped
