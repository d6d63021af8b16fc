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
from datetime import date, datetime, timedelta

from flask import url_for
from flask_babel import gettext as _
from markupsafe import Markup, escape

from buchung.clock import format_hhmm, minute_of_day
from buchung.forms import CELL_LABELS
from buchung.opening import opening_text, week_texts
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
    keys = [[_key(cell) for cell in cells] for _minute, cells in rows]
    for column in range(columns):
        top = 0
        for index in range(1, len(rows) + 1):
            key = keys[index][column] if index < len(rows) else None
            if key is None or key != keys[top][column]:
                if index - top > 1:
                    spans[top][column] = index - top
                    for covered in range(top + 1, index):
                        spans[covered][column] = 0
                top = index
    return spans


@dataclass(frozen=True)
class _Words:
    """What every cell of a page repeats, escaped once: the label of each state, the start
    and end of a cell that links to the booking form, the cells that link nowhere."""

    link_head: dict[str, str]  # state → '<td …><a href="…?start='
    link_label: dict[str, str]  # state → '">frei<span class="visually-hidden">: '
    link_tail: dict[str, str]  # state → ' buchen</span></a></td>'
    labels: dict[str, str]
    plain: dict[str, str]  # state → the cell without a link, a span or a note
    skipped: str


def _words(grid: Grid) -> _Words:
    labels = {state: str(escape(str(label))) for state, label in CELL_LABELS.items()}
    book_url = escape(url_for("buchung.book", resource_id=grid.resource.id))
    actions = {"free": escape(_("buchen")), "partial": escape(_("freien Hallenteil wählen"))}
    return _Words(
        link_head={
            state: f'<td class="cell cell--{state}"><a href="{book_url}?start=' for state in actions
        },
        link_label={
            state: f'">{labels[state]}<span class="visually-hidden">: ' for state in actions
        },
        link_tail={state: f" {action}</span></a></td>" for state, action in actions.items()},
        labels=labels,
        plain={state: CELL.format(state=state, span="", label=labels[state]) for state in labels},
        skipped=(
            '<td class="cell cell--outside">–<span class="visually-hidden"> '
            f"{escape(_('Zeitumstellung'))}</span></td>"
        ),
    )


def _cell_html(cell: Cell | None, words: _Words, day: str, time: str, bookable: bool, span=1):
    if cell is None:
        return words.skipped
    state = cell.state
    if bookable and state in words.link_head:
        # The start as a URL-safe UTC stamp (``Cell.start_param``), without strftime.
        start = cell.starts_at.isoformat()[:16]
        return (
            f"{words.link_head[state]}{start}Z{words.link_label[state]}{day} {time}"
            f"{words.link_tail[state]}"
        )
    if cell.note:
        span_attr = f' rowspan="{span}"' if span > 1 else ""
        return CELL_WITH_NOTE.format(
            state=state, span=span_attr, note=escape(cell.note), label=words.labels[state]
        )
    if span > 1:
        return CELL.format(state=state, span=f' rowspan="{span}"', label=words.labels[state])
    return words.plain[state]


def week_rows(grid: Grid, bookable: bool, words: _Words | None = None) -> Markup:
    """``<tr>`` rows of the grid: one per start time in which some day is open, one cell
    per day; runs of cells that cannot be booked merged into one."""
    words = words or _words(grid)
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


def day_rows(grid: Grid, bookable: bool, words: _Words | None = None) -> Markup:
    """The first day of the grid for a phone: one row per bookable start time, and one row
    per run of taken, past or closed time ("18:00–20:00 belegt"); hours it is not open are
    left out (the heading says when it is)."""
    words = words or _words(grid)
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


@dataclass(frozen=True)
class WeekPage:
    """What the week view shows around its cells, and its rows, made once per page: links by
    filling in one ``url_for`` result, dates through one formatter per pattern, each
    weekday's hours once, the cells' common words once."""

    url: str  # the resource's page; ``?ab=`` a first day
    first: date
    today: date
    prev_week: str  # links, with ``#woche``
    next_week: str
    prev_day: str
    next_day: str
    prev_day_name: str  # "Di 01.12."
    next_day_name: str
    first_caption: str  # "Mittwoch, 02.12.2026"
    first_hours: str  # "16–22 Uhr", empty when not open
    heads: list[tuple[str, str]]  # per day: "Mi 02.12.", its hours
    first_text: str  # "02.12.2026"
    last_text: str
    opening: str  # the opening hours of the week in words (``opening_text``)
    week_rows: Markup
    day_rows: Markup


def week_page(
    grid: Grid, today: date, prev_week: date, next_week: date, bookable: bool
) -> WeekPage:
    """The week view of ``grid`` around and in its cells (see ``WeekPage``)."""
    url = url_for("buchung.resource_page", resource_id=grid.resource.id)
    short = date_formatter("EEE dd.MM.")
    numeric = date_formatter("dd.MM.yyyy")
    texts = week_texts(grid.resource)
    first, one_day = grid.days[0], timedelta(days=1)
    words = _words(grid)
    return WeekPage(
        url=url,
        first=first,
        today=today,
        prev_week=f"{url}?ab={prev_week.isoformat()}#woche",
        next_week=f"{url}?ab={next_week.isoformat()}#woche",
        prev_day=f"{url}?ab={(first - one_day).isoformat()}#woche",
        next_day=f"{url}?ab={(first + one_day).isoformat()}#woche",
        prev_day_name=short(first - one_day),
        next_day_name=short(first + one_day),
        first_caption=date_formatter("EEEE, dd.MM.yyyy")(first),
        first_hours=texts[first.weekday()],
        heads=[(short(day), texts[day.weekday()]) for day in grid.days],
        first_text=numeric(first),
        last_text=numeric(grid.days[-1]),
        opening=opening_text(grid.resource, texts),
        week_rows=week_rows(grid, bookable, words),
        day_rows=day_rows(grid, bookable, words),
    )
