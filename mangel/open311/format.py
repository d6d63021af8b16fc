"""Rendering of Open311 GeoReport v2 answers in the two formats the spec requires.

Views build plain data (dicts, lists, strings, numbers, booleans, datetimes, ``None``);
this module turns it into XML or JSON.  JSON lists are top-level arrays; in XML a list
becomes a wrapper element holding one element per item, named by ``ITEM_TAGS``
(``services`` → ``service``, ``attributes`` → ``attribute`` …), as the spec's examples do.
Datetimes are W3C with the offset of Europe/Berlin, ``None`` is an empty element in XML and
``null`` in JSON.
"""

from __future__ import annotations

import json
from datetime import datetime
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

from flask import Response

FORMATS = ("xml", "json")
CONTENT_TYPES = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
LOCAL_TZ = ZoneInfo("Europe/Berlin")
ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
    "notes": "note",
    "photos": "photo",
    "answers": "answer",
}


def w3c(value: datetime | None) -> str | None:
    """A datetime as W3C (ISO 8601) in local time with its offset, seconds precision."""
    if value is None:
        return None
    return value.astimezone(LOCAL_TZ).isoformat(timespec="seconds")


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return w3c(value)
    return "" if value is None else str(value)


def _append(parent: ElementTree.Element, tag: str, value) -> None:
    element = ElementTree.SubElement(parent, tag)
    _fill(element, tag, value)


def _fill(element: ElementTree.Element, tag: str, value) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _append(element, key, item)
    elif isinstance(value, list):
        for item in value:
            _append(element, ITEM_TAGS[tag], item)
    else:
        element.text = _text(value)


def to_xml(root: str, data) -> bytes:
    """The document ``<root>…</root>`` for a list or a dict, UTF-8 with declaration."""
    element = ElementTree.Element(root)
    _fill(element, root, data)
    return ElementTree.tostring(element, encoding="utf-8", xml_declaration=True)


def _json_default(value):
    if isinstance(value, datetime):
        return w3c(value)
    return str(value)  # lazy translation strings


def to_json(data) -> bytes:
    return json.dumps(data, ensure_ascii=False, default=_json_default).encode("utf-8")


def render(fmt: str, root: str, data) -> bytes:
    """The body in the requested format; ``root`` names the XML document element."""
    return to_xml(root, data) if fmt == "xml" else to_json(data)


def respond(fmt: str, root: str, data, status: int = 200) -> Response:
    """The answer in the requested format; ``root`` names the XML document element."""
    return Response(render(fmt, root, data), status=status, content_type=CONTENT_TYPES[fmt])


def error_response(fmt: str, status: int, description: str) -> Response:
    """An error as the spec has it: a list of ``code`` and ``description`` pairs."""
    return respond(fmt, "errors", [{"code": status, "description": description}], status)
