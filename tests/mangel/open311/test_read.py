"""Open311 reading endpoints in XML and JSON: discovery, services, service requests."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from lotse.extensions import db
from lotse.models import utcnow
from tests.mangel.conftest import REPORTER
from tests.mangel.open311.conftest import error_of, parse_xml, records, xml_fields

pytestmark = pytest.mark.both_dbs
FORMATS = pytest.mark.parametrize("fmt", ["xml", "json"])


@FORMATS
def test_discovery_names_the_spec_and_both_formats(client, fmt):
    response = client.get(f"/open311/v2/discovery.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        data = response.get_json()
        endpoint = data["endpoints"][0]
        formats = endpoint["formats"]
    else:
        document = parse_xml(response, "discovery")
        endpoint = xml_fields(document.find("endpoints/endpoint"))
        formats = [f.text for f in document.findall("endpoints/endpoint/formats/format")]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2")
    assert endpoint["type"] == "production"
    assert formats == ["text/xml", "application/json"]


@FORMATS
def test_services_list_the_reportable_leaves_with_umlauts(client, categories, survey, fmt):
    response = client.get(f"/open311/v2/services.{fmt}")
    services = {s["service_code"]: s for s in records(response, fmt, "services")}
    assert set(services) == {str(categories["pothole"]), str(categories["light"]), str(survey)}
    green = services[str(survey)]
    assert green["service_name"] == "Grünfläche ungepflegt"
    assert green["group"] == "Straßen und Wege"
    assert green["type"] == "realtime"
    assert green["description"] == "Rasen, Hecken, Bäume"
    assert green["metadata"] == (True if fmt == "json" else "true")
    pothole = services[str(categories["pothole"])]
    assert pothole["metadata"] == (False if fmt == "json" else "false")


@FORMATS
def test_service_definition_has_all_six_datatypes(client, survey, fmt):
    response = client.get(f"/open311/v2/services/{survey}.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        data = response.get_json()
        assert data["service_code"] == str(survey)
        attributes = data["attributes"]
        values = [a["values"] for a in attributes]
    else:
        document = parse_xml(response, "service_definition")
        assert document.findtext("service_code") == str(survey)
        elements = document.findall("attributes/attribute")
        attributes = [xml_fields(e) for e in elements]
        values = [[xml_fields(v) for v in e.findall("values/value")] for e in elements]
    assert [a["datatype"] for a in attributes] == [
        "string",
        "number",
        "datetime",
        "text",
        "singlevaluelist",
        "multivaluelist",
    ]
    size = attributes[4]
    assert size["code"] == "groesse"
    assert size["description"] == "Größe"
    assert str(size["required"]).lower() == "true"
    assert str(size["variable"]).lower() == "true"
    assert str(size["order"]) == "5"
    assert size["datatype_description"]
    assert values[4] == [{"key": "1", "name": "klein"}, {"key": "2", "name": "groß"}]
    assert values[0] == []


@FORMATS
@pytest.mark.parametrize(
    "path",
    [
        "services/999",
        "services/abc",
        "requests/999",
        "requests/99999999999999999999999",
        "gibt/es/nicht",
    ],
)
def test_unknown_service_or_request_is_404_in_spec_format(client, categories, path, fmt):
    assert "not found" in error_of(client.get(f"/open311/v2/{path}.{fmt}"), fmt, 404)


@FORMATS
def test_request_shows_public_fields_and_never_personal_data(
    app, client, categories, make_report, fmt
):
    report_id = make_report(
        description="Loch an der Kreuzung Müllerstraße",
        description_released=True,
        street="Müllerstraße",
        reporter_phone="0241 12345",
    )
    for url in (
        f"/open311/v2/requests/{report_id}.{fmt}",
        f"/open311/v2/requests.{fmt}",
        f"/open311/v2/requests.{fmt}?extensions=true",
    ):
        response = client.get(url)
        body = response.get_data(as_text=True)
        for personal in (REPORTER["email"], REPORTER["name"], "Erika", "0241 12345"):
            assert personal not in body
        (item,) = records(response, fmt, "service_requests")
        assert item["service_request_id"] == str(report_id)
        assert item["status"] == "open"
        assert item["service_code"] == str(categories["pothole"])
        assert item["service_name"] == "Schlagloch"
        assert item["description"] == "Loch an der Kreuzung Müllerstraße"
        assert item["address"] == "Müllerstraße"
        assert float(item["lat"]) == pytest.approx(50.7489)
        assert float(item["long"]) == pytest.approx(6.4935)
        requested = datetime.fromisoformat(item["requested_datetime"])
        assert requested.utcoffset() in (timedelta(hours=1), timedelta(hours=2))


@FORMATS
def test_unreleased_description_and_unconfirmed_reports_stay_hidden(client, make_report, fmt):
    hidden = make_report(description="Geheimer Text")
    unconfirmed = make_report(confirmed_at=None)
    response = client.get(f"/open311/v2/requests.{fmt}")
    (item,) = records(response, fmt, "service_requests")
    assert item["service_request_id"] == str(hidden)
    assert "Geheimer Text" not in response.get_data(as_text=True)
    error_of(client.get(f"/open311/v2/requests/{unconfirmed}.{fmt}"), fmt, 404)


@FORMATS
def test_extensions_block_has_detailed_status_notes_and_supports(app, client, make_report, fmt):
    from mangel.models import Report, StatusChange, Support

    report_id = make_report(status="in_progress")
    with app.app_context():
        report = db.session.get(Report, report_id)
        report.history.append(
            StatusChange(status="in_progress", public_note="Bauhof ist unterwegs")
        )
        db.session.add(Support(report_id=report_id, email_hash="x" * 64, confirmed_at=utcnow()))
        db.session.commit()
    plain = records(client.get(f"/open311/v2/requests.{fmt}"), fmt, "service_requests")[0]
    assert "extended_attributes" not in plain
    assert plain["status_notes"] == "Bauhof ist unterwegs"
    response = client.get(f"/open311/v2/requests/{report_id}.{fmt}?extensions=true")
    (item,) = records(response, fmt, "service_requests")
    extended = item["extended_attributes"]
    if fmt == "xml":
        notes = [xml_fields(n) for n in extended.findall("notes/note")]
        extended = xml_fields(extended)
    else:
        notes = extended["notes"]
    assert extended["detailed_status"] == "in_progress"
    assert extended["detailed_status_label"] == "in Bearbeitung"
    assert str(extended["support_count"]) == "1"
    assert [n["text"] for n in notes] == ["Bauhof ist unterwegs"]


@FORMATS
def test_filters_status_service_code_dates_and_id_list(client, categories, make_report, fmt):
    now = utcnow()
    fixed = make_report(status="fixed", created_at=now - timedelta(days=2))
    light = make_report(category_id=categories["light"], created_at=now - timedelta(days=5))
    old = make_report(created_at=now - timedelta(days=100))

    def ids(query: str) -> list[str]:
        response = client.get(f"/open311/v2/requests.{fmt}?{query}")
        assert response.status_code == 200, response.data
        return [r["service_request_id"] for r in records(response, fmt, "service_requests")]

    assert ids("") == [str(fixed), str(light)]  # the last 90 days, newest first
    assert ids("status=closed") == [str(fixed)]
    assert ids("status=open") == [str(light)]
    assert ids("status=open,closed&service_code=") == [str(fixed), str(light)]
    assert ids(f"service_code={categories['light']}") == [str(light)]
    start = (now - timedelta(days=120)).isoformat()
    end = (now - timedelta(days=3)).isoformat()
    # The offset's "+" encoded or, as careless clients send it, not.
    assert ids(f"start_date={start}&end_date={end}") == [str(light), str(old)]
    assert ids(f"start_date={start}&end_date={end}".replace("+", "%2B")) == [
        str(light),
        str(old),
    ]
    # An id list overrides every other filter, including the 90-day window.
    assert ids(f"service_request_id={old},{fixed}&status=open") == [str(fixed), str(old)]
    assert ids("page_size=1&page=2") == [str(light)]


@FORMATS
@pytest.mark.parametrize(
    "query",
    [
        "status=pending",
        "start_date=gestern",
        "service_request_id=1;2",
        "service_request_id=99999999999999999999999",
        "page=0",
        "page=99999999999999999999",
    ],
)
def test_bad_filters_are_400(client, query, fmt):
    error_of(client.get(f"/open311/v2/requests.{fmt}?{query}"), fmt, 400)


def test_at_most_1000_requests_per_page(app, client, categories):
    from mangel.models import Report

    with app.app_context():
        db.session.add_all(
            Report(
                category_id=categories["pothole"], lat=50.7489, lon=6.4935, confirmed_at=utcnow()
            )
            for _ in range(1001)
        )
        db.session.commit()
    assert len(client.get("/open311/v2/requests.json").get_json()) == 1000
    assert len(client.get("/open311/v2/requests.json?page_size=5000").get_json()) == 1000
    assert len(client.get("/open311/v2/requests.json?page=2").get_json()) == 1


def test_released_photo_urls_appear_and_unreleased_do_not(app, client, make_report):
    from mangel.models import Report, ReportPhoto

    report_id = make_report()
    with app.app_context():
        report = db.session.get(Report, report_id)
        report.photos.append(
            ReportPhoto(
                file_name="a" * 32 + ".jpg", thumb_name="a" * 32 + "_t.jpg", width=1, height=1
            )
        )
        db.session.commit()
    item = client.get("/open311/v2/requests.json?extensions=true").get_json()[0]
    assert item["media_url"] is None
    assert item["extended_attributes"]["photos"] == []
    with app.app_context():
        db.session.get(Report, report_id).photos_released = True
        db.session.commit()
    item = client.get("/open311/v2/requests.json?extensions=true").get_json()[0]
    assert item["media_url"] == "http://localhost/maengel/fotos/" + "a" * 32 + ".jpg"
    assert item["extended_attributes"]["photos"] == [item["media_url"]]


def test_developer_page_is_linked_from_the_footer(client):
    home = client.get("/").get_data(as_text=True)
    assert 'href="/open311/v2/"' in home
    page = client.get("/open311/v2/")
    assert page.status_code == 200
    assert "Open311" in page.get_data(as_text=True)


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_wrong_method_answers_in_the_spec_error_format(client, fmt):
    response = client.put(f"/open311/v2/services.{fmt}")
    assert error_of(response, fmt, 405) == "Method not allowed"
    expected = "text/xml" if fmt == "xml" else "application/json"
    assert response.headers["Content-Type"].startswith(expected)


@pytest.mark.parametrize("storage", ["memory", "redis"])
def test_a_polled_list_is_answered_again_for_a_few_seconds(request, make_app, make_report, storage):
    import time

    from tests.sql_counter import count_statements

    redis = {"REDIS_URL": request.getfixturevalue("redis_url")} if storage == "redis" else {}
    polled = make_app(OPEN311_CACHE_SECONDS=2, **redis)
    client = polled.test_client()
    make_report()
    url = "/open311/v2/requests.json?status=open&page_size=50"
    first = client.get(url)
    assert len(first.get_json()) == 1
    make_report()
    with count_statements(polled) as statements:
        # Another client's key and parameter order: the same question, the same answer.
        again = client.get("/open311/v2/requests.json?page_size=50&api_key=x&status=open")
    assert again.data == first.data and statements == []
    assert len(client.get("/open311/v2/requests.json?status=open").get_json()) == 2
    assert client.get("/open311/v2/requests.json?status=nope").status_code == 400
    assert client.get("/open311/v2/requests.json?status=nope").status_code == 400
    time.sleep(2.1)
    assert len(client.get(url).get_json()) == 2
