"""Fees: the price the booking form, the mail, the booking page and the PDF bill tell agree;
a new Satzung changes no earlier booking; Storno keeps every document; late cancellations."""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from buchung.fees.models import (
    Bill,
    ClubBilling,
    FeeAdjustment,
    FeeSchedule,
)
from buchung.models import Booking
from buchung.services.booking import cancel
from lotse.extensions import db
from tests.buchung.conftest import next_weekday, series_data
from tests.buchung.fees_helpers import flat, page_text, pdf_text, sign_out
from tests.buchung.test_rules import booking_data
from tests.mailbox import Mailbox
from tests.pdfcheck import assert_tagged_pdf

pytestmark = pytest.mark.both_dbs


SATURDAY = next_weekday(5, weeks_ahead=2)
THURSDAY = next_weekday(3, weeks_ahead=2)

CASES = {
    "hourly": dict(
        tariff=("room", "private", "hour", 1750),
        form={"start": "10:00", "end": "12:00"},
        lines=["2 Std. × 17,50 € (Privat) = 35,00 €"],
        total="35,00 €",
    ),
    "per-use": dict(
        tariff=("room", "private", "use", 4000),
        form={"start": "10:00", "end": "13:30"},
        lines=["1 Nutzung × 40,00 € (Privat) = 40,00 €"],
        total="40,00 €",
    ),
    "part-of-hall": dict(
        tariff=("hall", "club", "hour", 1250),
        book="A",
        form={"start": "18:00", "end": "19:30", "customer_group": "club"},
        lines=["1,5 Std. × 12,50 € (Verein) = 18,75 €"],
        total="18,75 €",
    ),
    "youth": dict(
        tariff=("room", "club", "hour", 1750),
        form={"start": "16:00", "end": "18:00", "customer_group": "club", "youth": "y"},
        lines=[
            "2 Std. × 17,50 € (Verein) = 35,00 €",
            "Jugendermäßigung -50 % von 35,00 € = -17,50 €",
            "Summe: 17,50 €",
        ],
        total="17,50 €",
    ),
    "weekend": dict(
        tariff=("room", "private", "hour", 1750),
        day=SATURDAY,
        form={"start": "10:00", "end": "12:00"},
        lines=[
            "2 Std. × 17,50 € (Privat) = 35,00 €",
            "Wochenendzuschlag +20 % von 35,00 € = 7,00 €",
            "Summe: 42,00 €",
        ],
        total="42,00 €",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_price_agrees_in_form_mail_page_and_pdf(
    app, client, form_post, make_resource, make_hall, make_schedule, mailbox, bill_month, case
):
    ids = make_hall()
    ids["room"] = make_resource()
    key, group, unit, cents = case["tariff"]
    make_schedule([(ids[key], group, unit, cents)])
    resource_id = ids[case.get("book", "room")]
    day = case.get("day", THURSDAY)
    data = booking_data(day, **case["form"])

    # The hall or room's page names the tariff in force (a part shows its hall's).
    unit_label = "je Stunde" if unit == "hour" else "je Nutzung"
    rate = f"{cents // 100},{cents % 100:02d} €"
    assert f"{rate} {unit_label}" in page_text(client.get(f"/buchung/{resource_id}"))

    # The form, asked as the booker types (the script's request), shows the calculation ...
    answer = client.get(f"/buchung/{resource_id}/preis", query_string=data).get_json()
    assert [flat(line) for line in answer["lines"]] == case["lines"]
    # ... and so does the form itself when it comes back with an error to fix.
    page = form_post(f"/buchung/{resource_id}/buchen", {**data, "contact_phone": ""})
    form_text = page_text(page)
    assert "Bitte geben Sie eine Telefonnummer an." in form_text
    for line in case["lines"]:
        assert line in form_text
    assert f"Gesamt: {case['total']}" in form_text

    response = form_post(f"/buchung/{resource_id}/buchen", data)
    assert response.status_code == 302
    hold = mailbox.latest()
    mail = flat(Mailbox.text(hold))
    assert f"Gebühr: {case['total']}" in mail
    for line in case["lines"]:
        assert line in mail
    (link,) = {urlsplit(u).path for u in Mailbox.links(hold) if "/buchung/b/" in u}
    form_post(f"{link}/bestaetigen", {}, page=link)
    confirmed = flat(Mailbox.text(mailbox.latest()))
    assert "Ihre Buchung ist bestätigt" in confirmed and f"Gebühr: {case['total']}" in confirmed
    booking_page = page_text(client.get(link))
    assert all(line in booking_page for line in case["lines"])

    sign_out(client)
    (bill_path,) = bill_month(day)
    bill_page = page_text(client.get(bill_path))
    number = re.search(r"Gebührenbescheid (\d{4}-\d{5})", bill_page).group(1)
    response = client.get(f"{bill_path}.pdf")
    assert response.headers["Content-Type"] == "application/pdf"
    assert_tagged_pdf(response.data, f"Gebührenbescheid {number} – Lotse Musterstadt")
    text = pdf_text(response.data)
    assert f"Gebührenbescheid {number}" in text
    for line in case["lines"]:
        assert line in text
    assert f"Gesamtbetrag {case['total']}" in text
    assert "Rechtsbehelfsbelehrung" in text and "Gabi Gast" in text


def test_new_satzung_changes_no_earlier_booking_and_season_total_splits(
    app, client, form_post, make_resource, make_club, club_login, make_schedule, mailbox
):
    """A series across the day a new Satzung starts: old fee before, new fee from it on."""
    resource_id = make_resource("Sporthalle Nord")
    club = make_club()
    make_schedule([(resource_id, "club", "hour", 1000)])
    first = next_weekday(0, weeks_ahead=1)
    last = first + timedelta(weeks=5)
    club_login()
    response = form_post(
        "/buchung/verein/serie/neu",
        series_data(resource_id, first, last, book_free="1"),
    )
    assert response.status_code == 302
    series_path = urlsplit(response.headers["Location"]).path
    before = page_text(client.get(series_path))
    assert "6 Termine × (2 Std. × 10,00 € (Verein) = 20,00 €) = 120,00 €" in before
    assert "Saison gesamt: 120,00 €" in before
    mail = flat(Mailbox.text(mailbox.latest()))
    assert "Gebühr für die Saison: 120,00 €" in mail

    # The council raises the fee from the fourth week on.
    change = first + timedelta(weeks=3)
    make_schedule([(resource_id, "club", "hour", 1500)], valid_from=change)
    after = page_text(client.get(series_path))
    assert "3 Termine × (2 Std. × 10,00 € (Verein) = 20,00 €) = 60,00 €" in after
    assert "3 Termine × (2 Std. × 15,00 € (Verein) = 30,00 €) = 90,00 €" in after
    assert "Saison gesamt: 150,00 €" in after

    # A preview of a second series shows the same split before anything is booked.
    preview = form_post(
        "/buchung/verein/serie/neu",
        series_data(resource_id, first, last, start="20:00", end="21:00", preview="1"),
    )
    text = page_text(preview)
    assert "3 Termine × (1 Std. × 10,00 € (Verein) = 10,00 €) = 30,00 €" in text
    assert "3 Termine × (1 Std. × 15,00 € (Verein) = 15,00 €) = 45,00 €" in text
    assert "Saison gesamt: 75,00 €" in text
    with app.app_context():
        assert club["club"] == db.session.scalar(select(Booking.club_id).limit(1))


def test_storno_keeps_both_documents_and_replaces(
    app,
    client,
    form_post,
    make_resource,
    make_club,
    book_series,
    make_schedule,
    bill_month,
    mailbox,
):
    resource_id = make_resource()
    ids = make_club()
    make_schedule([(resource_id, "club", "hour", 1000)])
    first = next_weekday(1, weeks_ahead=1)
    book_series(resource_id, first, first)
    sign_out(client)
    (bill_path,) = bill_month(first)
    original = page_text(client.get(bill_path))
    number = re.search(r"Gebührenbescheid (\d{4}-\d{5})", original).group(1)
    assert "Gesamtbetrag 20,00 €" in original

    # The office learns the club is non-profit and corrects the bill: Storno and new bill.
    with app.app_context():
        db.session.add(ClubBilling(club_id=ids["club"], group_key="club", non_profit=True))
        schedule = db.session.scalar(select(FeeSchedule))
        schedule.adjustments.append(
            FeeAdjustment(name="Ermäßigung gemeinnützig", condition="non_profit", percent=-10)
        )
        db.session.commit()
    response = form_post(
        f"{bill_path}/storno", {"reason": "Gemeinnützigkeit nachgewiesen"}, page=bill_path
    )
    assert response.status_code == 302
    replacement = page_text(client.get(response.headers["Location"]))
    year, seq = number.split("-")
    storno_number = f"{year}-{int(seq) + 1:05d}"
    new_number = f"{year}-{int(seq) + 2:05d}"
    assert f"Gebührenbescheid {new_number}" in replacement
    assert f"Ersetzt Gebührenbescheid {number}" in replacement
    assert "Gesamtbetrag 18,00 €" in replacement

    old = page_text(client.get(bill_path))  # the original is still there, unchanged
    assert "Gesamtbetrag 20,00 €" in old and "storniert" in old
    assert f"Storniert durch Stornobeleg {storno_number}" in old
    with app.app_context():
        bills = {b.number: b for b in db.session.scalars(select(Bill))}
        assert set(bills) == {number, storno_number, new_number}
        assert bills[storno_number].total_cents == -2000
        assert bills[storno_number].cancels_id == bills[number].id
        storno_id = bills[storno_number].id
    storno_pdf = client.get(f"/verwaltung/buchung/gebuehren/beleg/{storno_id}.pdf")
    assert_tagged_pdf(storno_pdf.data, f"Stornobeleg {storno_number} – Lotse Musterstadt")
    assert "-20,00 €" in pdf_text(storno_pdf.data) or "−20,00 €" in pdf_text(storno_pdf.data)
    # Each document reached the club.
    subjects = {m["Subject"] for m in mailbox.messages(to="trainer@tv.example")}
    assert {f"Stornobeleg {storno_number}", f"Gebührenbescheid {new_number}"} <= subjects
    csv_text = client.get("/verwaltung/buchung/gebuehren/sollstellung.csv").data.decode("utf-8-sig")
    rows = csv_text.strip().splitlines()
    assert rows[0].startswith("Belegnummer;Belegart;Belegdatum;Fällig am")
    assert f"{storno_number};Stornobeleg;" in csv_text and f";-20,00;Storno;{number};" in csv_text
    # Reusing the month run bills nothing twice.
    assert bill_month(first) == sorted(
        f"/verwaltung/buchung/gebuehren/beleg/{i}" for i in range(1, 4)
    )


@pytest.mark.parametrize(("hours_before", "billed"), [(72, None), (2, "10,00 €")])
def test_cancellation_free_before_deadline_then_per_satzung(
    app,
    client,
    form_post,
    make_resource,
    make_club,
    book_series,
    make_schedule,
    bill_month,
    hours_before,
    billed,
):
    resource_id = make_resource()
    make_club()
    make_schedule([(resource_id, "club", "hour", 1000)], late_cancel_percent=50)
    first = next_weekday(2, weeks_ahead=1)
    book_series(resource_id, first, first)
    with app.app_context():
        booking = db.session.scalar(select(Booking))
        cancel(booking, "fällt aus")
        # The club released the training this long before it started.
        booking.decided_at = booking.starts_at - timedelta(hours=hours_before)
        db.session.commit()
    sign_out(client)
    bills = bill_month(first)
    if billed is None:
        assert bills == []
        return
    text = page_text(client.get(bills[0]))
    assert "(storniert)" in text
    assert f"Späte Stornierung: 50 % von 20,00 € = {billed}" in text
    assert f"Gesamtbetrag {billed}" in text


def test_staff_pages_need_the_booking_office(client, make_user, auth):
    assert client.get("/verwaltung/buchung/gebuehren/").status_code in (302, 401, 403)
    make_user(email="tief@town.example", roles=("clerk",))
    auth.login(email="tief@town.example")
    assert client.get("/verwaltung/buchung/gebuehren/").status_code == 403


def test_bill_without_csrf_token_is_refused(client, office):
    office()
    response = client.post("/verwaltung/buchung/gebuehren/abrechnen", data={"month": "2026-01-01"})
    assert response.status_code == 400


def test_office_writes_a_satzung_through_the_pages(app, client, form_post, office, make_hall):
    ids = make_hall()
    office()
    base = "/verwaltung/buchung/gebuehren/satzungen"
    response = form_post(
        base, {"title": "Satzung 2026", "valid_from": "", "late_cancel_percent": "50"}
    )
    assert response.status_code == 200
    assert "Bitte geben Sie an, ab wann sie gilt." in page_text(response)
    assert 'value="Satzung 2026"' in response.get_data(as_text=True)
    response = form_post(
        base, {"title": "Satzung 2026", "valid_from": "2000-01-01", "late_cancel_percent": "50"}
    )
    assert response.status_code == 302
    schedule_path = urlsplit(response.headers["Location"]).path

    tariff = {
        "tariff-resource_id": str(ids["hall"]),
        "tariff-group_key": "club",
        "tariff-unit": "hour",
        "tariff-amount": "17,5x",
    }
    response = form_post(schedule_path, tariff)
    assert response.status_code == 200
    assert "Bitte einen Betrag in Euro, z. B. 17,50." in page_text(response)
    assert 'value="17,5x"' in response.get_data(as_text=True)
    assert form_post(schedule_path, {**tariff, "tariff-amount": "17,50"}).status_code == 302
    response = form_post(
        schedule_path,
        {"adj-name": "Wochenendzuschlag", "adj-condition": "weekend", "adj-percent": ""},
    )
    assert "Bitte geben Sie Prozent oder einen Betrag an." in page_text(response)
    form_post(
        schedule_path,
        {"adj-name": "Wochenendzuschlag", "adj-condition": "weekend", "adj-percent": "20"},
    )
    text = page_text(client.get(schedule_path))
    assert "Dreifachhalle Verein 17,50 € je Stunde" in text
    assert "Wochenendzuschlag am Wochenende 20 %" in text
    # A part without a tariff of its own shows its hall's.
    assert "Verein: 17,50 € je Stunde" in page_text(client.get(f"/buchung/{ids['B']}"))

    # A new Satzung from a later day takes the tariffs over; the office then raises one.
    later = date.today() + timedelta(days=400)
    response = form_post(
        base,
        {
            "title": "Satzung neu",
            "valid_from": later.isoformat(),
            "late_cancel_percent": "100",
            "copy": "y",
        },
    )
    new_path = urlsplit(response.headers["Location"]).path
    assert "Dreifachhalle Verein 17,50 € je Stunde" in page_text(client.get(new_path))
    response = form_post(
        base, {"title": "Doppelt", "valid_from": later.isoformat(), "late_cancel_percent": "100"}
    )
    assert "Ab diesem Tag gilt schon eine Satzung." in page_text(response)
