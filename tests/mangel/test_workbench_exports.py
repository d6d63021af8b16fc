"""CSV exports and statistics of the workbench (issue 22): one CSV Excel opens right, one
for other systems; charts as SVG with the numbers beside them in German format."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from tests.mangel.test_workbench import BASE, staff  # noqa: F401

pytestmark = pytest.mark.both_dbs

CREATED = datetime(2026, 7, 1, 10, 5, 33, 123456, tzinfo=UTC)  # 12:05:33 in Düren (summer)


@pytest.fixture
def exported(make_report, staff):  # noqa: F811
    return make_report(
        created_at=CREATED,
        status="in_progress",
        priority=1,
        description="=HYPERLINK(x)",
        street="Schulstraße",
        department_id=staff["tiefbau"],
    )


def test_csv_for_excel_has_bom_semicolons_local_time_and_german_labels(client, auth, exported):
    auth.login("a@town.example")
    response = client.get(f"{BASE}/export.csv?status=alle")
    assert response.headers["Content-Disposition"] == 'attachment; filename="meldungen.csv"'
    raw = response.data
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    header, row = rows[0], dict(zip(rows[0], rows[1], strict=True))
    assert header[:5] == ["Nr.", "Eingang", "Kategorie", "Abteilung", "Status"]
    assert row["Eingang"] == "01.07.2026 12:05"  # Europe/Berlin, no microseconds
    assert row["Status"] == "in Bearbeitung" and row["Priorität"] == "hoch"
    assert row["Kategorie"] == "Straßen und Wege – Schlagloch"
    assert row["Straße"] == "Schulstraße"
    assert "," in row["Breitengrad"] and "." not in row["Breitengrad"]
    assert row["Beschreibung"] == "'=HYPERLINK(x)"  # safe_cell still neutralises formulas


def test_csv_for_systems_has_codes_and_utc(client, auth, exported, categories):
    auth.login("a@town.example")
    response = client.get(f"{BASE}/export-systeme.csv?status=alle")
    assert not response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    [row] = rows
    assert row["created_at"] == "2026-07-01T10:05:33Z"
    assert row["status"] == "in_progress" and row["priority"] == "1"
    assert row["category"] == str(categories["pothole"])
    assert float(row["lat"]) > 50
    assert row["description"] == "'=HYPERLINK(x)"
    inbox = client.get(f"{BASE}/").get_data(as_text=True)
    assert "CSV für andere Systeme" in inbox and "Auswahl als CSV (für Excel)" in inbox


def test_statistics_show_svg_charts_with_the_numbers_beside_in_german_format(
    client,
    auth,
    make_report,
    staff,  # noqa: F811
):
    for days in (0, 40, 40):
        make_report(
            created_at=datetime.now(UTC) - timedelta(days=days, hours=1),
            accepted_at=datetime.now(UTC) - timedelta(days=days, hours=1) + timedelta(days=23.9),
            department_id=staff["tiefbau"],
        )
    auth.login("a@town.example")
    html = client.get("/verwaltung/maengel/statistik").get_data(as_text=True)
    assert html.count('role="img"') == 2 and html.count("<svg") == 2
    assert '<title id="bars-title">Eingegangene Meldungen je Abteilung' in html
    assert "Tiefbau: 3 eingegangen, 3 offen, 0 geschlossen." in html  # the description
    assert '<title id="months-title">' in html and "<polyline" in html
    row = html[html.index('<th scope="row">Tiefbau') :].split("</tr>")[0]
    assert "<td>23,9</td>" in row  # median days, German decimal comma
    assert "23.9" not in html
    month = datetime.now(UTC)
    assert html.count("<caption>") >= 2
    assert f"{month.year}</th>" in html  # months by name, "Dezember 2026"
