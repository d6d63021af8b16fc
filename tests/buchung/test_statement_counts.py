"""The booking lists cost a fixed number of SQL statements however many bookings they show.

Each list is loaded with two bookings and again with twelve, on resources with parts; an
N+1 (one more query per booking for its resource, series or club …) shows up as a
difference, and the total must stay within a bound that does not grow with the list.
"""

from __future__ import annotations

import pytest

from tests.buchung.conftest import next_weekday
from tests.sql_counter import statements_for

pytestmark = pytest.mark.both_dbs

# url template → most statements one request may send (a logged-in office costs a few).
LISTS = {
    "/buchung/": 6,
    "/buchung/{hall}?woche={day}": 10,  # one more: the fees in force (issue 25)
    "/buchung/{hall}/belegungsplan?woche={day}": 8,
    "/verwaltung/buchung/": 8,
    "/verwaltung/buchung/kalender?datum={day}": 9,
}


def test_booking_lists_cost_the_same_for_two_and_twelve_bookings(
    client, app, make_hall, book, office
):
    hall = make_hall()
    office()
    day = next_weekday(2)
    urls = [url.format(hall=hall["hall"], day=day.isoformat()) for url in LISTS]
    parts = [hall["A"], hall["B"], hall["C"]]

    def add(first: int, n: int) -> None:
        for i in range(first, first + n):
            hour = 6 + i
            book(parts[i % 3], day, f"{hour:02d}:00", f"{hour:02d}:30", email=f"g{i}@example.org")

    def counts() -> dict[str, int]:
        return {url: len(statements_for(client, app, url)) for url in urls}

    add(0, 2)
    few = counts()
    add(2, 10)
    many = counts()
    assert many == few
    limits = dict(zip(urls, LISTS.values(), strict=True))
    over = {url: n for url, n in many.items() if n > limits[url]}
    assert not over, over
