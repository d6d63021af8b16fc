"""BITV 2.0: the Erklärung zur Barrierefreiheit from structured settings, the DGS page, and
German legal texts marked as German in the English UI."""

from __future__ import annotations

import re

EN = {"Accept-Language": "en"}


def statement(app) -> str:
    return app.test_client().get("/barrierefreiheit").get_data(as_text=True)


def test_statement_has_every_part_the_bitv_asks_for(client):
    html = client.get("/barrierefreiheit").get_data(as_text=True)
    assert (
        "Dieses Angebot ist wegen der folgenden Unvereinbarkeiten teilweise mit § 3 Absätze 1 "
        "bis 4 und § 4 der BITV 2.0 vereinbar." in html
    )
    assert "Nicht barrierefreie Inhalte" in html
    assert "Die Karten (Mängelmelder) sind für blinde Menschen nicht nutzbar." in html
    assert "Alternative: Jeder Ort lässt sich als Adresse oder als Koordinaten eingeben" in html
    assert (
        "Diese Erklärung wurde am 01.12.2026 erstellt und zuletzt am 01.12.2026 überprüft." in html
    )
    assert "Methode der Bewertung: Selbstbewertung" in html
    assert (
        '<a class="break-anywhere" href="mailto:barrierefreiheit@musterstadt.example">'
        "barrierefreiheit@musterstadt.example</a>" in html
    )
    assert "Schlichtungsverfahren" in html
    assert re.search(
        r'<a href="https://schlichtungsstelle\.land\.example/">Schlichtungsstelle', html
    )
    assert 'href="mailto:schlichtungsstelle@land.example"' in html
    assert 'href="tel:021100000"' in html


def test_missing_dgs_video_is_listed_until_configured(make_app):
    app = make_app(DGS_VIDEO=None)
    assert "Es gibt noch keine Informationen in Deutscher Gebärdensprache" in statement(app)
    page = app.test_client().get("/gebaerdensprache").get_data(as_text=True)
    assert "Das Video in Deutscher Gebärdensprache wird gerade erstellt." in page
    assert "<video" not in page


def test_configured_dgs_video_is_shown_and_no_longer_a_gap(make_app):
    app = make_app(
        DGS_VIDEO="https://video.musterstadt.example/dgs.mp4",
        ACCESSIBILITY_STATEMENT={"status": "vollständig", "gaps": [], "method": "Test"},
    )
    html = statement(app)
    assert "Gebärdensprache (BITV 2.0 § 4)" not in html
    assert "Dieses Angebot ist vollständig mit § 3 Absätze 1 bis 4 und § 4 der BITV 2.0" in html
    response = app.test_client().get("/gebaerdensprache")
    assert 'src="https://video.musterstadt.example/dgs.mp4"' in response.get_data(as_text=True)
    assert (
        "media-src 'self' https://video.musterstadt.example"
        in response.headers["Content-Security-Policy"]
    )


def test_dgs_video_from_the_instance_folder(make_app):
    app = make_app(DGS_VIDEO="dgs.mp4")
    with open(app.instance_path + "/dgs.mp4", "wb") as fh:
        fh.write(b"\x00\x00\x00\x18ftypmp42")
    client = app.test_client()
    assert 'src="/gebaerdensprache/dgs.mp4"' in client.get("/gebaerdensprache").get_data(
        as_text=True
    )
    with client.get("/gebaerdensprache/dgs.mp4") as video:
        assert video.status_code == 200
        assert video.data.startswith(b"\x00\x00\x00\x18ftyp")
    assert client.get("/gebaerdensprache/secret_key").status_code == 404


def test_a_gap_makes_full_conformance_partial(make_app):
    app = make_app(DGS_VIDEO=None, ACCESSIBILITY_STATEMENT={"status": "vollständig"})
    assert "teilweise mit § 3 Absätze 1 bis 4" in statement(app)


def test_dgs_and_easy_language_are_linked_from_start_page_and_footer(client):
    html = client.get("/").get_data(as_text=True)
    assert html.count('href="/gebaerdensprache"') == 2
    assert html.count('href="/leichte-sprache"') == 2


def test_german_legal_texts_are_marked_german_in_the_english_ui(client):
    for path in ("/impressum", "/datenschutz", "/barrierefreiheit"):
        html = client.get(path, headers=EN).get_data(as_text=True)
        assert '<html lang="en">' in html
        assert '<div class="prose" lang="de">' in html, path
    footer = client.get("/", headers=EN).get_data(as_text=True)
    assert '<a href="/leichte-sprache" lang="de" hreflang="de">Leichte Sprache</a>' in footer


def test_easy_language_is_german_in_the_english_ui(client):
    html = client.get("/leichte-sprache", headers=EN).get_data(as_text=True)
    assert '<html lang="de">' in html
    assert "Der Bürger-Service in Leichter Sprache" in html
