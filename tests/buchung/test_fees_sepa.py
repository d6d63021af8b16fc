"""Bill numbers without gaps under concurrency; the SEPA mandate, the pain.008 file checked
against the official XSD; payments by CSV and by hand; reminders for overdue bills."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import xmlschema
from sqlalchemy import select

from buchung.fees import billing
from buchung.fees.models import Bill, BillItem, ClubBilling
from lotse.extensions import db
from tests.buchung.conftest import next_weekday, series_data
from tests.buchung.fees_helpers import page_text, sign_out
from tests.mailbox import Mailbox

pytestmark = pytest.mark.both_dbs

XSD = Path(__file__).with_name("pain.008.001.02.xsd")
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"}
THREADS = 20


def test_numbers_have_no_gaps_under_20_concurrent_bills(app):
    """20 threads, each with its own session, write bills at once; every fifth rolls back
    after taking its number.  The numbers that stand run 1…n without a gap or a twin."""
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            with app.app_context():
                start.wait()
                bill = Bill(
                    kind="bescheid",
                    payer_name=f"Verein {i}",
                    period_start=date(2026, 11, 1),
                    period_end=date(2026, 11, 30),
                    items=[
                        BillItem(
                            position=1,
                            service_date=date(2026, 11, 3),
                            description="Training",
                            amount_cents=1000 + i,
                        )
                    ],
                )
                billing.issue(bill, issued_on=date(2026, 12, 1))
                if i % 5 == 4:
                    db.session.rollback()
                else:
                    db.session.commit()
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with app.app_context():
        numbers = list(db.session.scalars(select(Bill.number).order_by(Bill.sequence)))
    kept = THREADS - THREADS // 5
    assert numbers == [f"2026-{n:05d}" for n in range(1, kept + 1)]


def enter_mandate(form_post, **overrides):
    data = {
        "address": "Sportweg 1\n52372 Musterstadt",
        "account_holder": "TV Musterstadt e. V.",
        "iban": "DE89 3704 0044 0532 0130 00",
        "bic": "",
        "mandate_reference": "TV-0001",
        "signed_on": "2026-11-20",
        "consent": "y",
    }
    data.update(overrides)
    return form_post("/buchung/verein/gebuehren/lastschrift", data)


def test_mandate_form_checks_the_iban(client, form_post, make_club, club_login, app):
    make_club()
    club_login()
    response = enter_mandate(form_post, iban="DE89 3704 0044 0532 0130 01")
    assert response.status_code == 200
    text = page_text(response)
    assert "Diese IBAN ist nicht gültig. Bitte prüfen Sie sie." in text
    assert 'value="DE89 3704 0044 0532 0130 01"' in response.get_data(as_text=True)
    response = enter_mandate(form_post, consent="")
    assert "Bitte bestätigen Sie das Mandat." in page_text(response)
    response = enter_mandate(form_post)
    assert response.status_code == 302
    page = page_text(client.get("/buchung/verein/gebuehren/"))
    assert "Mandat TV-0001 vom 20.11.2026, Konto DE89 … 3000" in page
    with app.app_context():
        billing_row = db.session.scalar(select(ClubBilling))
        assert billing_row.iban == "DE89370400440532013000"
        assert billing_row.bic == "COBADEFFXXX"


def early_monday() -> date:
    """A Monday at least a week ahead whose next week is in the same month."""
    day = next_weekday(0, weeks_ahead=1)
    while day.day > 21:
        day += timedelta(weeks=1)
    return day


def book_as(form_post, club_login, client, email, resource_id, first, last, **kw):
    """A club login books a weekly series through the series form."""
    sign_out(client)
    club_login(email)
    data = series_data(resource_id, first, last, book_free="1", **kw)
    assert form_post("/buchung/verein/serie/neu", data).status_code == 302


def test_pain008_export_is_valid_with_control_sums(
    app,
    client,
    form_post,
    make_resource,
    make_club,
    club_login,
    make_schedule,
    bill_month,
):
    resource_id = make_resource()
    make_schedule([(resource_id, "club", "hour", 1750)])
    first = early_monday()
    make_club()
    make_club("SC Blau-Weiß", "kasse@sc.example")
    for email, ref, iban in [
        ("trainer@tv.example", "TV-0001", "DE89370400440532013000"),
        ("kasse@sc.example", "SC-7", "DE02120300000000202051"),
    ]:
        start = "16:00" if email.startswith("trainer") else "18:00"
        end = "18:00" if email.startswith("trainer") else "20:00"
        book_as(
            form_post,
            club_login,
            client,
            email,
            resource_id,
            first,
            first + timedelta(weeks=1),
            start=start,
            end=end,
        )
        assert enter_mandate(form_post, mandate_reference=ref, iban=iban).status_code == 302
    book_as(
        form_post,
        club_login,
        client,
        "kasse@sc.example",
        resource_id,
        first,
        first,
        start="20:00",
        end="21:30",
    )
    sign_out(client)
    bills = bill_month(first)
    assert len(bills) == 2
    listing = page_text(client.get("/verwaltung/buchung/gebuehren/"))
    assert "2 offene Bescheide mit SEPA-Mandat, zusammen 166,25 €." in listing

    response = form_post(
        "/verwaltung/buchung/gebuehren/lastschrift.xml", {}, page="/verwaltung/buchung/gebuehren/"
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/xml")
    xml = response.data
    schema = xmlschema.XMLSchema(str(XSD))
    schema.validate(xml)  # raises on any deviation from the official pain.008.001.02
    doc = schema.to_dict(xml)["CstmrDrctDbtInitn"]
    header = doc["GrpHdr"]
    assert header["NbOfTxs"] == "2"
    assert Decimal(str(header["CtrlSum"])) == Decimal("166.25")
    transactions = [tx for info in doc["PmtInf"] for tx in info["DrctDbtTxInf"]]
    amounts = sorted(Decimal(str(tx["InstdAmt"]["$"])) for tx in transactions)
    assert amounts == [Decimal("70.00"), Decimal("96.25")]
    for info in doc["PmtInf"]:
        assert Decimal(str(info["CtrlSum"])) == sum(
            Decimal(str(tx["InstdAmt"]["$"])) for tx in info["DrctDbtTxInf"]
        )
        assert info["PmtTpInf"]["SeqTp"] == "FRST"
        assert info["CdtrSchmeId"]["Id"]["PrvtId"]["Othr"][0]["Id"] == "DE98ZZZ09999999999"
    mandates = {tx["DrctDbtTx"]["MndtRltdInf"]["MndtId"] for tx in transactions}
    assert mandates == {"TV-0001", "SC-7"}

    # Nothing is collected twice; the next bill of a club is a recurring collection.
    listing = page_text(client.get("/verwaltung/buchung/gebuehren/"))
    assert "0 offene Bescheide mit SEPA-Mandat" in listing
    second_month = (first.replace(day=1) + timedelta(days=32)).replace(day=1)
    with app.app_context():
        from buchung.fees.sepa import export_direct_debits

        assert export_direct_debits() is None
        later = Bill(
            kind="bescheid",
            club_id=db.session.scalar(select(ClubBilling.club_id).limit(1)),
            payer_name="TV Musterstadt",
            period_start=second_month,
            period_end=second_month + timedelta(days=27),
            items=[
                BillItem(position=1, service_date=second_month, description="x", amount_cents=500)
            ],
        )
        billing.issue(later)
        export = export_direct_debits()
        db.session.commit()
    schema.validate(export.xml)
    assert b"<SeqTp>RCUR</SeqTp>" in export.xml


def test_payments_by_csv_and_by_hand_and_reminders(
    app,
    client,
    form_post,
    make_resource,
    make_club,
    club_login,
    make_schedule,
    bill_month,
    mailbox,
):
    resource_id = make_resource()
    make_schedule([(resource_id, "club", "hour", 1000)])
    first = next_weekday(3, weeks_ahead=1)
    make_club()
    make_club("SC Blau-Weiß", "kasse@sc.example")
    book_as(form_post, club_login, client, "trainer@tv.example", resource_id, first, first)
    book_as(
        form_post,
        club_login,
        client,
        "kasse@sc.example",
        resource_id,
        first,
        first,
        start="20:00",
        end="21:00",
    )
    sign_out(client)
    first_bill, second_bill = bill_month(first)
    numbers = {}
    with app.app_context():
        for bill in db.session.scalars(select(Bill)):
            numbers[bill.payer_name] = bill.number
    csv = (
        "Belegnummer;Betrag;Bezahlt am\n"
        f"{numbers['TV Musterstadt']};20,00;05.12.2026\n"
        f"{numbers['SC Blau-Weiß']};9,00;05.12.2026\n"
        "2026-99999;5,00;05.12.2026\n"
    ).encode()
    from io import BytesIO

    response = form_post(
        "/verwaltung/buchung/gebuehren/zahlungen",
        {"file": (BytesIO(csv), "zahlungen.csv")},
        page="/verwaltung/buchung/gebuehren/",
        content_type="multipart/form-data",
    )
    text = page_text(client.get(response.headers["Location"]))
    assert "1 Beleg als bezahlt vermerkt." in text
    assert f"Zeile 3: Beleg {numbers['SC Blau-Weiß']} – Betrag 9,00 weicht von 10,00 ab." in text
    assert "Zeile 4: Beleg 2026-99999 gibt es nicht." in text

    # The SC's bill is overdue: the office reminds, the club's logins get the mail.
    with app.app_context():
        bill = db.session.scalar(select(Bill).where(Bill.payer_name == "SC Blau-Weiß"))
        bill.due_on = date.today() - timedelta(days=3)
        db.session.commit()
        bill_id = bill.id
    overdue = page_text(client.get("/verwaltung/buchung/gebuehren/mahnungen"))
    assert numbers["SC Blau-Weiß"] in overdue and numbers["TV Musterstadt"] not in overdue
    response = form_post(
        "/verwaltung/buchung/gebuehren/mahnungen",
        {"bill_ids": [str(bill_id)]},
        page="/verwaltung/buchung/gebuehren/mahnungen",
    )
    reminder = mailbox.latest(to="kasse@sc.example")
    assert reminder["Subject"] == f"Zahlungserinnerung: Gebührenbescheid {numbers['SC Blau-Weiß']}"
    body = " ".join(Mailbox.text(reminder).split())
    assert "noch nicht bezahlt" in body and "10,00 €" in body
    links = [urlsplit(u).path for u in Mailbox.links(reminder)]
    assert f"/buchung/verein/gebuehren/beleg/{bill_id}" in links
    assert not mailbox.messages(to="trainer@tv.example") or all(
        not m["Subject"].startswith("Zahlungserinnerung")
        for m in mailbox.messages(to="trainer@tv.example")
    )

    # Paid by hand after all.
    bill_path = f"/verwaltung/buchung/gebuehren/beleg/{bill_id}"
    form_post(f"{bill_path}/bezahlt", {"paid_on": "2026-12-09"}, page=bill_path)
    page = page_text(client.get(bill_path))
    assert "Stand bezahlt (09.12.2026)" in page
    assert "Nichts überfällig." in page_text(client.get("/verwaltung/buchung/gebuehren/mahnungen"))
    assert first_bill and second_bill
