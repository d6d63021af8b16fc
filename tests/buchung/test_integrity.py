"""The slot table rules out double bookings, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import bindparam, select, text
from sqlalchemy.exc import IntegrityError

from buchung.models import Booking, BookingSlot, Resource
from buchung.services.booking import SlotTaken
from lotse.extensions import db
from lotse.models import UTCDateTime
from tests.buchung.conftest import local, next_weekday

pytestmark = pytest.mark.both_dbs

DAY = next_weekday(2)


@pytest.mark.parametrize(
    ("first", "second", "conflict"),
    [
        (("gym", "10:00", "11:00"), ("gym", "10:00", "11:00"), True),  # same time
        (("gym", "10:00", "12:00"), ("gym", "11:00", "13:00"), True),  # overlap
        (("gym", "10:00", "12:00"), ("gym", "10:30", "11:00"), True),  # inside
        (("gym", "10:00", "11:00"), ("gym", "11:00", "12:00"), False),  # touching after
        (("gym", "11:00", "12:00"), ("gym", "10:00", "11:00"), False),  # touching before
        (("gym", "10:00", "11:00"), ("room", "10:00", "11:00"), False),  # other resource
        (("hall", "10:00", "12:00"), ("A", "11:00", "12:00"), True),  # whole hall vs part
        (("B", "10:00", "12:00"), ("hall", "09:00", "10:30"), True),  # part vs whole hall
        (("A", "10:00", "12:00"), ("B", "10:00", "12:00"), False),  # two parts at once
        (("hall", "10:00", "11:00"), ("C", "11:00", "12:00"), False),  # hall touching part
    ],
)
def test_overlap_rules(make_resource, make_hall, book, counts, first, second, conflict):
    ids = {"gym": make_resource("Gymnastikhalle"), "room": make_resource("Sitzungssaal")}
    ids.update(make_hall())
    book(ids[first[0]], DAY, first[1], first[2])
    if conflict:
        with pytest.raises(SlotTaken):
            book(ids[second[0]], DAY, second[1], second[2])
        assert counts()[0] == 1
    else:
        book(ids[second[0]], DAY, second[1], second[2])
        assert counts()[0] == 2


def test_whole_hall_writes_a_row_per_part_and_slot(app, make_hall, book):
    ids = make_hall()
    booking_id = book(ids["hall"], DAY, "10:00", "12:00")
    with app.app_context():
        units = db.session.execute(
            select(BookingSlot.unit_id).where(BookingSlot.booking_id == booking_id)
        ).all()
    assert sorted({u for (u,) in units}) == sorted([ids["A"], ids["B"], ids["C"]])
    assert len(units) == 3 * 8  # three parts × 2 h of 15-minute slots


def test_lost_race_stores_nothing(app, make_resource, book, counts):
    """Two sessions pass the friendly pre-check; the unique key stops the second insert."""
    from buchung.services import booking as service

    resource_id = make_resource()
    book(resource_id, DAY, "10:00", "11:00")
    with app.app_context():
        resource = db.session.get(Resource, resource_id)
        original = service._free_expired_holds
        service._free_expired_holds = lambda *args: True  # as if the other commit came later
        try:
            with pytest.raises(SlotTaken):
                service.create_booking(
                    resource, local(DAY, "10:30"), local(DAY, "11:30"), purpose="Zweiter"
                )
        finally:
            service._free_expired_holds = original
        db.session.rollback()
    assert counts() == (1, 4)


def _stamps(statement: str, *names: str):
    """Raw SQL whose timestamps are written as the application writes them on each database."""
    return text(statement).bindparams(*(bindparam(n, type_=UTCDateTime()) for n in names))


def _raw_booking(conn, resource_id: int, start: datetime, end: datetime, token: str) -> int:
    statement = _stamps(
        "INSERT INTO booking (resource_id, starts_at, ends_at, status, kind, purpose, "
        "contact_name, contact_email, contact_phone, token, reason, created_at, updated_at) "
        "VALUES (:r, :s, :e, 'confirmed', 'booking', 'raw', '', '', '', :t, '', :now, :now) "
        "RETURNING id",
        "s",
        "e",
        "now",
    )
    values = {"r": resource_id, "s": start, "e": end, "t": token, "now": datetime.now(UTC)}
    return conn.execute(statement, values).scalar_one()


def test_raw_sql_overlapping_booking_fails(app, make_hall, book, db_backend):
    """Bypassing the application: PostgreSQL still refuses an overlapping booking."""
    ids = make_hall()
    book(ids["A"], DAY, "10:00", "12:00")
    with app.app_context():
        start, end = local(DAY, "11:00"), local(DAY, "13:00")
        # With its slot rows, the raw booking of the whole hall hits the unique key (both DBs).
        with pytest.raises(IntegrityError), db.engine.begin() as conn:
            booking_id = _raw_booking(conn, ids["hall"], start, end, "raw-1")
            slot = start
            while slot < end:
                for unit in (ids["A"], ids["B"], ids["C"]):
                    conn.execute(
                        _stamps(
                            "INSERT INTO booking_slot (unit_id, slot_start, booking_id) "
                            "VALUES (:u, :s, :b)",
                            "s",
                        ),
                        {"u": unit, "s": slot, "b": booking_id},
                    )
                slot += timedelta(minutes=15)
        if db_backend == "postgres":
            # Without slot rows, the constraint trigger refuses it at commit.
            with (
                pytest.raises(IntegrityError, match="does not own exactly its slots"),
                db.engine.begin() as conn,
            ):
                _raw_booking(conn, ids["hall"], start, end, "raw-2")
        assert db.session.scalars(select(Booking.purpose)).all() == ["Training"]


def _last_sunday(month: int) -> date:
    today = date.today()
    year = today.year if date(today.year, month, 20) > today + timedelta(days=7) else today.year + 1
    day = date(year, month, 31)
    return day - timedelta(days=(day.weekday() + 1) % 7)


@pytest.mark.parametrize(("month", "real_hours"), [(3, 2), (10, 4)])
def test_dst_nights(app, make_resource, book, month, real_hours):
    """01:00–04:00 local is 2 real hours when clocks go forward and 4 when they go back."""
    resource_id = make_resource(max_minutes=600)
    night = _last_sunday(month)
    booking_id = book(resource_id, night, "01:00", "04:00")
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        assert booking.ends_at - booking.starts_at == timedelta(hours=real_hours)
        slots = db.session.scalars(
            select(BookingSlot.slot_start).where(BookingSlot.booking_id == booking_id)
        ).all()
    assert len(slots) == real_hours * 4
    # The next booking from 04:00 local touches it and fits.
    book(resource_id, night, "04:00", "05:00")
    with pytest.raises(SlotTaken):
        book(resource_id, night, "03:30", "04:30")


def test_dst_week_grid_skips_missing_hour(app, make_resource, client):
    resource_id = make_resource()
    night = _last_sunday(3)
    html = client.get(f"/buchung/{resource_id}?woche={night.isoformat()}").get_data(as_text=True)
    assert "Zeitumstellung" in html


def test_migration_creates_the_trigger_the_models_create():
    """The migration's snapshot of the PostgreSQL trigger matches the models' DDL."""
    import importlib.util

    from buchung.models import BOOKING_OWNS_SLOTS
    from lotse.config import PROJECT_DIR

    path = PROJECT_DIR / "migrations" / "versions" / "0002_buchung_resources_bookings_slots.py"
    spec = importlib.util.spec_from_file_location("migration_0002", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.BOOKING_OWNS_SLOTS.strip() == BOOKING_OWNS_SLOTS.strip()
