"""A bill as a page and as the same page printed to a tagged PDF, for staff, club and guest."""

from __future__ import annotations

from flask import make_response, render_template

from buchung.fees.models import Bill
from lotse.pdf import render_pdf

TEMPLATE = "buchung/fees/bill.html"


def bill_page(bill: Bill, back_url: str, pdf_url: str, **extra):
    """The bill as a web page with a link to its PDF."""
    response = make_response(
        render_template(TEMPLATE, bill=bill, back_url=back_url, pdf_url=pdf_url, **extra)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def bill_pdf(bill: Bill):
    """The same template printed: a tagged PDF named after the bill's number."""
    response = make_response(render_pdf(TEMPLATE, bill=bill, back_url="", pdf_url=""))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{bill.kind}-{bill.number}.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response
