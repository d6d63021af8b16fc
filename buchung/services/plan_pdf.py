"""The Belegungsplan as PDF for the notice board: what the public plan shows, nothing more.

Written with fpdf2 in DejaVu Sans (vendored under ``static/vendor/dejavu``), so umlauts and
other letters of club and hall names print on machines without system fonts.
"""

from __future__ import annotations

from pathlib import Path

from flask import current_app
from flask_babel import format_date, format_datetime
from flask_babel import gettext as _
from fpdf import FPDF
from fpdf.fonts import FontFace

from buchung.clock import to_local
from buchung.services.plan import WeekPlan
from lotse.models import utcnow

FONT = "DejaVu"
COLUMNS = (42, 26, 52, 60)  # day, time, hall or part, taken by: 180 mm of A4's 210


class PlanDocument(FPDF):
    """A4 portrait with the page number and the moment it was made in every footer."""

    def __init__(self, made: str):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.made = made
        fonts = Path(current_app.static_folder or "") / "vendor" / "dejavu"
        self.add_font(FONT, "", fonts / "DejaVuSans.ttf")
        self.add_font(FONT, "B", fonts / "DejaVuSans-Bold.ttf")
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=True, margin=18)

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


def plan_pdf(plan: WeekPlan) -> bytes:
    """The week's public plan as a PDF: per day the taken times, "belegt" or the club's name
    where the town allows, and closures; never a person's name, e-mail or purpose."""
    title = _("Belegungsplan %(name)s", name=plan.resource.name)
    pdf = PlanDocument(format_datetime(to_local(utcnow()), "dd.MM.yyyy HH:mm"))
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
    pdf.set_font(FONT, size=10)
    with pdf.table(
        col_widths=COLUMNS,
        width=sum(COLUMNS),
        text_align="LEFT",
        v_align="TOP",
        line_height=5.5,
        padding=1.2,
        headings_style=FontFace(emphasis="BOLD", fill_color=(230, 230, 230)),
    ) as table:
        table.row([_("Tag"), _("Zeit"), _("Halle oder Teil"), _("Belegung")])
        for day in plan.days:
            label = format_date(day, "EEEE dd.MM.")
            entries = plan.entries[day]
            if not entries:
                table.row([label, "", "", _("frei")])
            for n, entry in enumerate(entries):
                table.row([label if n == 0 else "", entry.times, entry.where, entry.public])
    return bytes(pdf.output())
