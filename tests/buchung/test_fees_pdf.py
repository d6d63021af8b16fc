"""The payer's own copies: a club reads its bills in the club area, a guest by the link in
the bill mail; both as the page and as the same page printed to a tagged PDF."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from tests.buchung.conftest import next_weekday
from tests.buchung.fees_helpers import page_text, pdf_text, sign_out
from tests.buchung.test_rules import booking_data
from tests.mailbox import Mailbox
from tests.pdfcheck import assert_tagged_pdf

pytestmark = pytest.mark.both_dbs

DAY = next_weekday(2, weeks_ahead=1)


def test_club_reads_its_bill_and_no_other(
    client, make_resource, make_club, club_login, book_series, make_schedule, bill_month, mailbox
):
    resource_id = make_resource()
    make_schedule([(resource_id, "club", "hour", 1000)])
    make_club()
    make_club("SC Blau-Weiß", "kasse@sc.example")
    book_series(resource_id, DAY, DAY)
    sign_out(client)
    (staff_path,) = bill_month(DAY)
    mail = mailbox.latest(to="trainer@tv.example")
    number = re.search(r"Gebührenbescheid (\d{4}-\d{5})", mail["Subject"]).group(1)
    (link,) = [urlsplit(u).path for u in Mailbox.links(mail) if "/gebuehren/beleg/" in u]

    sign_out(client)
    club_login()
    listing = page_text(client.get("/buchung/verein/gebuehren/"))
    assert f"Gebührenbescheid {number}" in listing and "20,00 €" in listing
    assert "Noch kein Mandat: Sie überweisen jeden Bescheid selbst." in listing
    page = page_text(client.get(link))
    assert "Bitte überweisen Sie 20,00 €" in page and "Verwendungszweck " + number in page
    response = client.get(f"{link}.pdf")
    assert_tagged_pdf(response.data, f"Gebührenbescheid {number} – Lotse Musterstadt")
    assert "Gesamtbetrag 20,00 €" in pdf_text(response.data)

    sign_out(client)
    club_login("kasse@sc.example")
    assert client.get(link).status_code == 404
    assert client.get(f"{link}.pdf").status_code == 404
    assert client.get(staff_path).status_code in (302, 403)


def test_guest_reads_the_bill_by_its_private_link(
    client, form_post, make_resource, make_schedule, bill_month, mailbox
):
    resource_id = make_resource()
    make_schedule([(resource_id, "commercial", "use", 8000)])
    form_post(f"/buchung/{resource_id}/buchen", booking_data(DAY, customer_group="commercial"))
    hold = mailbox.latest()
    (link,) = {urlsplit(u).path for u in Mailbox.links(hold) if "/buchung/b/" in u}
    form_post(f"{link}/bestaetigen", {}, page=link)
    bill_month(DAY)
    mail = mailbox.latest(to="gabi@example.org")
    assert mail["Subject"].startswith("Gebührenbescheid ")
    body = " ".join(Mailbox.text(mail).split())
    assert "über 80,00 €" in body
    (bill_link,) = [urlsplit(u).path for u in Mailbox.links(mail) if "/buchung/beleg/" in u]
    sign_out(client)
    page = page_text(client.get(bill_link))
    assert "1 Nutzung × 80,00 € (Gewerblich) = 80,00 €" in page
    response = client.get(f"{bill_link}.pdf")
    title = mail["Subject"]
    assert_tagged_pdf(response.data, f"{title} – Lotse Musterstadt")
    assert "Gabi Gast" in pdf_text(response.data)
    assert client.get("/buchung/beleg/nicht-geraten").status_code == 404
