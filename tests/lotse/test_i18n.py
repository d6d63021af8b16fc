"""German by default, English on request; every UI string translated."""

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
METHODS = [("**.py", "python"), ("**.html", "jinja2"), ("**.txt", "jinja2")]


def test_german_is_the_default(client):
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="de">' in html
    assert "Zum Inhalt springen" in html


def test_accept_language_english(client):
    html = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Skip to content" in html
    assert "Zum Inhalt springen" not in html


def test_language_choice_is_remembered(client):
    # The switch in every page's header carries no CSRF token (lotse.views.set_language).
    assert 'name="csrf_token"' not in client.get("/impressum").get_data(as_text=True)
    response = client.post("/sprache", data={"lang": "en", "next": "/impressum"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/impressum")
    html = client.get("/impressum", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Legal notice" in html
    response = client.post("/sprache", data={"lang": "de", "next": "/"})
    assert "Zum Inhalt springen" in client.get("/").get_data(as_text=True)


def test_unknown_language_refused(client):
    assert client.post("/sprache", data={"lang": "xx"}).status_code == 400


def _sources(package: str) -> list[Path]:
    if package == "lotse":
        return [ROOT / "lotse", ROOT / "templates"]
    return [ROOT / package, ROOT / "templates" / package]


@pytest.mark.parametrize("package", ["lotse", "mangel", "buchung"])
def test_english_catalogue_covers_every_string(package):
    features = {"mangel", "buchung"}
    extracted = set()
    for source in _sources(package):
        for filename, _lineno, message, _comments, _context in extract_from_dir(
            source, METHODS, keywords=KEYWORDS
        ):
            if (
                package == "lotse"
                and source.name == "templates"
                and filename.split("/")[0] in features
            ):
                continue
            extracted.add(message if isinstance(message, str) else message[0])
    po = ROOT / package / "translations" / "en" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as fh:
        catalogue = read_po(fh)
    translated = {
        m.id if isinstance(m.id, str) else m.id[0]
        for m in catalogue
        if m.id
        and m.string
        and (not isinstance(m.string, tuple) or all(m.string))
        and "fuzzy" not in m.flags
    }
    missing = sorted(extracted - translated)
    assert not missing, f"untranslated in {po.relative_to(ROOT)} (run `make messages`): {missing}"
