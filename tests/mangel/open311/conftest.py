"""Fixtures of the Open311 tests: a category with all six datatypes, API keys, parsing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree

import pytest

from lotse.extensions import db
from tests.mangel.conftest import INSIDE, REPORTER

XML_TYPE = "text/xml; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"


@pytest.fixture
def survey(app, categories) -> int:
    """A leaf under the main category that asks one question of every datatype."""
    from mangel.models import Category, CategoryQuestion

    with app.app_context():
        leaf = Category(
            name="Grünfläche ungepflegt",
            parent_id=categories["main"],
            description="Rasen, Hecken, Bäume",
        )
        leaf.questions = [
            CategoryQuestion(code="flaeche", label="Welche Fläche?", datatype="string"),
            CategoryQuestion(code="anzahl", label="Wie viele Bäume?", datatype="number"),
            CategoryQuestion(code="seit", label="Seit wann?", datatype="datetime"),
            CategoryQuestion(code="details", label="Einzelheiten", datatype="text"),
            CategoryQuestion(
                code="groesse",
                label="Größe",
                datatype="singlevaluelist",
                required=True,
                options=[{"key": "1", "name": "klein"}, {"key": "2", "name": "groß"}],
            ),
            CategoryQuestion(
                code="art",
                label="Was wächst dort?",
                datatype="multivaluelist",
                options=[{"key": "a", "name": "Gräser"}, {"key": "b", "name": "Bäume"}],
            ),
        ]
        db.session.add(leaf)
        db.session.commit()
        return leaf.id


@pytest.fixture
def make_key(app) -> Callable[..., str]:
    """Create an API key (default: untrusted, all categories); returns the raw key."""
    from mangel.open311.apikeys import create_api_key

    def make(name: str = "Stadt-App", **kw: Any) -> str:
        with app.app_context():
            _key, raw = create_api_key(name, **kw)
            db.session.commit()
            return raw

    return make


@pytest.fixture
def post_request(client, categories) -> Callable[..., Any]:
    """POST a valid pothole report to /open311/v2/requests.<fmt>; keywords change fields."""

    def post(fmt: str = "json", **changes: Any):
        data = {
            "service_code": str(categories["pothole"]),
            "lat": str(INSIDE[0]),
            "long": str(INSIDE[1]),
            "description": "Großes Schlagloch vor der Bäckerei",
            "email": REPORTER["email"],
            "first_name": "Erika",
            "last_name": "Mustermann",
            **changes,
        }
        data = {key: value for key, value in data.items() if value is not None}
        return client.post(f"/open311/v2/requests.{fmt}", data=data)

    return post


def records(response, fmt: str, root: str) -> list[dict]:
    """The items of a list answer: JSON objects, or each XML child as {tag: text or element}."""
    if fmt == "json":
        assert response.headers["Content-Type"] == JSON_TYPE
        data = response.get_json()
        assert isinstance(data, list)
        return data
    return [xml_fields(item) for item in parse_xml(response, root)]


def parse_xml(response, root: str) -> ElementTree.Element:
    """The XML document of an answer, checked for its Content-Type and root element."""
    assert response.headers["Content-Type"] == XML_TYPE
    assert response.data.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    document = ElementTree.fromstring(response.data)  # noqa: S314 - our own answer
    assert document.tag == root
    return document


def xml_fields(element: ElementTree.Element) -> dict:
    """An XML element's children as a dict: text for leaves, the element for containers."""
    return {child.tag: (child if len(child) else (child.text or "")) for child in element}


def error_of(response, fmt: str, status: int) -> str:
    """Assert a spec error answer and return its description."""
    assert response.status_code == status
    (error,) = records(response, fmt, "errors")
    assert str(error["code"]) == str(status)
    assert error["description"]
    return error["description"]
