"""Commands: school holidays from an .ics file, demo data, the sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from buchung.clock import to_local
from buchung.models import Booking, Closure, Resource
from lotse.extensions import db
from tests.buchung.conftest import next_weekday

pytestmark = pytest.mark.both_dbs

DAY = next_weekday(2, weeks_ahead=2)


def holiday_file(tmp_path):
    first, last = DAY - timedelta(days=2), DAY + timedelta(days=3)
    path = tmp_path / "ferien.ics"
    path.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Schulministerium NRW//DE\r\n"
        "BEGIN:VEVENT\r\nUID:herbstferien@schulministerium.example\r\n"
        f"DTSTAMP:20260101T000000Z\r\nDTSTART;VALUE=DATE:{first:%Y%m%d}\r\n"
        f"DTEND;VALUE=DATE:{last:%Y%m%d}\r\nSUMMARY:Herbstferien\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:elternabend@schule.example\r\n"
        f"DTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Europe/Berlin:{first:%Y%m%d}T180000\r\n"
        f"DTEND;TZID=Europe/Berlin:{first:%Y%m%d}T210000\r\n"
        "RRULE:FREQ=WEEKLY;COUNT=3\r\nSUMMARY:Elternabend\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    )
    return path


def test_import_closures_from_ics(app, runner, tmp_path, make_resource, book):
    resource_id = make_resource()
    book(resource_id, DAY, "10:00", "11:00", purpose="Yoga")
    path = holiday_file(tmp_path)
    result = runner.invoke(args=["lotse", "import-closures", str(path)])
    assert result.exit_code == 0, result.output
    assert "4 Sperrzeiten angelegt, 0 aktualisiert." in result.output
    assert (
        "betroffen: Buchung 1 Gymnastikhalle" in result.output
        and "gast@example.org" in result.output
    )
    with app.app_context():
        holidays = db.session.scalar(select(Closure).where(Closure.title == "Herbstferien"))
        start = to_local(holidays.starts_at)
        assert (start.date(), start.hour) == (DAY - timedelta(days=2), 0)
        evenings = db.session.scalars(select(Closure).where(Closure.title == "Elternabend")).all()
        assert [to_local(c.starts_at).hour for c in evenings] == [18, 18, 18]
    again = runner.invoke(args=["lotse", "import-closures", str(path)])
    assert "0 Sperrzeiten angelegt, 4 aktualisiert." in again.output


def test_import_closures_refuses_garbage(runner, tmp_path):
    path = tmp_path / "kaputt.ics"
    path.write_text("kein Kalender")
    result = runner.invoke(args=["lotse", "import-closures", str(path)])
    assert result.exit_code != 0
    assert "Keine lesbare iCalendar-Datei" in result.output


def test_seed_demo(app, runner):
    result = runner.invoke(args=["lotse", "seed-demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        names = set(db.session.scalars(select(Resource.name)))
        assert {"Dreifachhalle Schulzentrum", "Drittel A", "Gymnastikhalle"} <= names
        assert db.session.scalar(select(func.count()).select_from(Booking)) >= 5
        statuses = set(db.session.scalars(select(Booking.status)))
        assert {"confirmed", "requested"} <= statuses
