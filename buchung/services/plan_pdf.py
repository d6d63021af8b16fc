"""The Belegungsplan as PDF for the notice board: what the public plan shows, nothing more.

Written with fpdf2 in DejaVu Sans (vendored under ``static/vendor/dejavu``), so umlauts and
other letters of club and hall names print on machines without system fonts.  The table is
drawn cell by cell: fpdf2's general ``table()`` lays out every cell twice and takes seconds
for a full week of a divisible hall.
"""

from __future__ import annotations

from pathlib import Path

from flask import current_app
from flask_babel import format_date, format_datetime
from flask_babel import gettext as _
from fpdf import FPDF

from buchung.clock import to_local
from buchung.services.plan import WeekPlan
from lotse.models import utcnow

FONT = "DejaVu"
COLUMNS = (42, 26, 52, 60)  # day, time, hall or part, taken by: 180 mm of A4's 210
LINE, PAD = 5.5, 1.2  # mm


class PlanDocument(FPDF):
    """A4 portrait; a table whose headings repeat on every page; page numbers in the footer."""

    def __init__(self, made: str, headings: list[str]):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.made = made
        self.headings = headings
        fonts = Path(current_app.static_folder or "") / "vendor" / "dejavu"
        self.add_font(FONT, "", fonts / "DejaVuSans.ttf")
        self.add_font(FONT, "B", fonts / "DejaVuSans-Bold.ttf")
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=True, margin=18)
        self.set_fill_color(230)

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font(FONT, size=8)
        self.cell(
            0,
            5,
            _(
                "Stand: %(made)s · Seite %(page)s von %(pages)s",
                made=self.made,
                page=self.page_no(),
                pages="{nb}",
            ),
            align="C",
        )

    def row(self, texts: list[str], heading: bool = False) -> None:
        """One table row, as high as its longest cell; a new page (with headings) if needed."""
        self.set_font(FONT, "B" if heading else "", 10)
        lines = [
            self._lines(text, width - 2 * PAD) for text, width in zip(texts, COLUMNS, strict=True)
        ]
        height = max(len(found) for found in lines) * LINE + 2 * PAD
        if not heading and self.will_page_break(height):
            self.add_page()
            self.row(self.headings, heading=True)
            self.set_font(FONT, size=10)
        x, y = self.l_margin, self.get_y()
        for width, found in zip(COLUMNS, lines, strict=True):
            self.rect(x, y, width, height, style="DF" if heading else "D")
            for number, line in enumerate(found):
                self.text(x + PAD, y + PAD + (number + 0.75) * LINE, line)  # on the baseline
            x += width
        self.set_xy(self.l_margin, y + height)

    def _lines(self, text: str, width: float) -> list[str]:
        if self.get_string_width(text) <= width:
            return [text]
        return self.multi_cell(width, LINE, text, dry_run=True, output="LINES")


def plan_pdf(plan: WeekPlan) -> bytes:
    """The week's public plan as a PDF: per day the taken times, "belegt" or the club's name
    where the town allows, and closures; never a person's name, e-mail or purpose."""
    title = _("Belegungsplan %(name)s", name=plan.resource.name)
    pdf = PlanDocument(
        format_datetime(to_local(utcnow()), "dd.MM.yyyy HH:mm"),
        [_("Tag"), _("Zeit"), _("Halle oder Teil"), _("Belegung")],
    )
    pdf.set_title(title)
    pdf.set_creator("Lotse")
    pdf.add_page()
    pdf.set_font(FONT, "B", 16)
    pdf.multi_cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=11)
    week = _(
        "Woche vom %(first)s bis %(last)s",
        first=format_date(plan.days[0], "dd.MM.yyyy"),
        last=format_date(plan.days[-1], "dd.MM.yyyy"),
    )
    pdf.cell(0, 8, week, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.row(pdf.headings, heading=True)
    for day in plan.days:
        label = format_date(day, "EEEE dd.MM.")
        entries = plan.entries[day]
        if not entries:
            pdf.row([label, "", "", _("frei")])
        for number, entry in enumerate(entries):
            pdf.row([label if number == 0 else "", entry.times, entry.where, entry.public])
    return bytes(pdf.output())
