"""The address list (import, search, nearest address), demo data and the category admin."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lotse.extensions import db
from tests.mangel.conftest import INSIDE

pytestmark = pytest.mark.both_dbs

CSV = """strasse;hausnummer;plz;ort;breite;laenge
Bahnhofstraße;12;52372;Musterstadt;50,746252;6,488710
Bahnhofstraße;14;52372;Musterstadt;50,746400;6,488900
Kirchstraße;3;52372;Musterstadt;50,747100;6,490200
Weit weg;1;10115;Berlin;52,52;13,40
"""


@pytest.fixture
def addresses(app, runner, tmp_path):
    path = tmp_path / "adressen.csv"
    path.write_text(CSV, encoding="utf-8")
    result = runner.invoke(args=["lotse", "import-addresses", str(path)])
    assert result.exit_code == 0, result.output
    assert "3 Adressen importiert, 1 übersprungen" in result.output


def test_import_replaces_the_list(app, runner, tmp_path, addresses):
    path = tmp_path / "neu.csv"
    path.write_text(
        "street,house_number,postcode,latitude,longitude\nSchulstraße,1,52372,50.75,6.49\n"
    )
    assert runner.invoke(args=["lotse", "import-addresses", str(path)]).exit_code == 0
    from mangel.models import Address

    with app.app_context():
        assert db.session.scalars(select(Address.street)).all() == ["Schulstraße"]


def test_import_refuses_a_file_without_coordinates(runner, tmp_path):
    path = tmp_path / "kaputt.csv"
    path.write_text("strasse;hausnummer\nBahnhofstraße;1\n")
    result = runner.invoke(args=["lotse", "import-addresses", str(path)])
    assert result.exit_code != 0
    assert "Spalten fehlen" in result.output


def test_address_search_answers_the_combobox(client, addresses):
    results = client.get("/maengel/adressen.json?q=bahnhofstr. 1").get_json()
    assert [r["label"] for r in results] == [
        "Bahnhofstraße 12, 52372 Musterstadt",
        "Bahnhofstraße 14, 52372 Musterstadt",
    ]
    assert results[0]["lat"] == pytest.approx(50.746252)
    assert client.get("/maengel/adressen.json?q=%25").get_json() == []


def test_address_typed_without_javascript(client, categories, addresses):
    base = f"/maengel/neu/angaben?category={categories['pothole']}"
    html = client.get(base + "&address=Kirchstr.+3").get_data(as_text=True)
    assert "Beschreiben Sie den Mangel" in html and "50.7471, 6.4902" in html
    response = client.get(base + "&address=Bahnhofstraße")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Mehrere Adressen passen" in html and "Bahnhofstraße 14, 52372 Musterstadt" in html
    response = client.get(base + "&address=Hauptstraße+99")
    assert response.status_code == 422
    assert "Diese Adresse kennen wir in Musterstadt nicht" in response.get_data(as_text=True)


def test_nearest_address_is_stored_for_staff(app, submit, report_data, addresses):
    assert submit(report_data(lat="50.74626", lon="6.48872")).status_code == 302
    from mangel.models import Report

    with app.app_context():
        report = db.session.scalars(select(Report)).one()
        assert report.nearest_address == "Bahnhofstraße 12, 52372 Musterstadt"
        assert report.street == "Bahnhofstraße"


def test_demo_data(app, runner):
    result = runner.invoke(args=["lotse", "seed-demo"])
    assert result.exit_code == 0, result.output
    from mangel.models import Address, Category, Report

    with app.app_context():
        leaves = db.session.scalars(select(Category).where(Category.parent_id.is_not(None))).all()
        assert {c.name for c in leaves} >= {
            "Straßenschaden/Schlagloch",
            "Straßenbeleuchtung defekt",
            "Winterdienst fehlt",
            "Illegale Müllablagerung",
            "Spielplatz beschädigt",
            "Grünfläche/Baum",
            "Verkehrszeichen",
            "Sonstiges",
        }
        assert all(c.department_id for c in leaves)
        light = next(c for c in leaves if c.name == "Straßenbeleuchtung defekt")
        assert [q.label for q in light.questions][0].startswith("Mastnummer")
        assert db.session.scalar(select(func.count()).select_from(Address)) > 300
        reports = db.session.scalars(select(Report)).all()
        assert len(reports) >= 30
        assert all(r.confirmed_at for r in reports)
        assert len({r.status for r in reports}) >= 4


def test_category_admin_is_for_admins_only(client, auth, make_user):
    make_user()
    auth.login()
    assert client.get("/verwaltung/maengel/kategorien").status_code == 403


def test_admin_manages_categories_and_questions(app, client, auth, make_user, form_post):
    from lotse.models import Department
    from mangel.models import Category

    make_user(email="admin@town.example", roles=("admin",))
    auth.login(email="admin@town.example")
    with app.app_context():
        department = Department(name="Grünflächen", email="gruen@town.example")
        db.session.add(department)
        db.session.commit()
        department_id = department.id
    response = form_post(
        "/verwaltung/maengel/kategorien/neu",
        {
            "name": "Grün",
            "parent_id": "0",
            "department_id": "0",
            "duplicate_radius_m": "0",
            "position": "0",
            "active": "y",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        main_id = db.session.scalar(select(Category.id).where(Category.name == "Grün"))
    response = form_post(
        "/verwaltung/maengel/kategorien/neu",
        {
            "name": "Baum",
            "parent_id": str(main_id),
            "department_id": str(department_id),
            "duplicate_radius_m": "5000",
            "position": "1",
            "active": "y",
        },
    )
    assert response.status_code == 200
    assert "Bitte geben Sie eine Zahl von 0 bis 2000 ein." in response.get_data(as_text=True)
    response = form_post(
        "/verwaltung/maengel/kategorien/neu",
        {
            "name": "Baum",
            "parent_id": str(main_id),
            "department_id": str(department_id),
            "duplicate_radius_m": "60",
            "position": "1",
            "photo_required": "y",
            "active": "y",
        },
        page="/verwaltung/maengel/kategorien/neu",
    )
    assert response.status_code == 302
    with app.app_context():
        leaf = db.session.scalar(select(Category).where(Category.name == "Baum"))
        assert (leaf.parent_id, leaf.department_id, leaf.duplicate_radius_m) == (
            main_id,
            department_id,
            60,
        )
        assert leaf.photo_required
        leaf_id = leaf.id
    url = f"/verwaltung/maengel/kategorien/{leaf_id}/fragen/neu"
    response = form_post(
        url,
        {
            "label": "Welche Baumart?",
            "code": "baumart",
            "datatype": "singlevaluelist",
            "options": "Eiche\nBuche\n",
            "required": "y",
            "position": "0",
        },
    )
    assert response.status_code == 302
    response = form_post(
        url, {"label": "Nochmal", "code": "baumart", "datatype": "string", "position": "0"}
    )
    assert "Diese Kennung gibt es in der Kategorie schon." in response.get_data(as_text=True)
    with app.app_context():
        question = db.session.get(Category, leaf_id).questions[0]
        assert question.options == [{"key": "1", "name": "Eiche"}, {"key": "2", "name": "Buche"}]
        question_id = question.id
    # Reordering keeps the keys of kept options, so earlier answers still read right.
    edit = f"/verwaltung/maengel/kategorien/{leaf_id}/fragen/{question_id}"
    form_post(
        edit,
        {
            "label": "Welche Baumart?",
            "code": "baumart",
            "datatype": "singlevaluelist",
            "options": "Linde\nBuche",
            "position": "0",
        },
    )
    with app.app_context():
        question = db.session.get(Category, leaf_id).questions[0]
        assert question.options == [{"key": "3", "name": "Linde"}, {"key": "2", "name": "Buche"}]
    page = client.get("/verwaltung/maengel/kategorien").get_data(as_text=True)
    assert "Welche Baumart?" in page and "Grünflächen" in page
    # The citizen's step 3 now asks the question.
    html = client.get(
        f"/maengel/neu/angaben?category={leaf_id}&lat={INSIDE[0]}&lon={INSIDE[1]}"
    ).get_data(as_text=True)
    assert "Welche Baumart?" in html and "Linde" in html
    response = form_post(
        f"/verwaltung/maengel/kategorien/{leaf_id}/fragen/{question_id}/loeschen",
        {},
        page="/verwaltung/maengel/kategorien",
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Category, leaf_id).questions == []


def test_main_category_with_children_stays_a_main_category(
    app, client, auth, make_user, form_post, categories
):
    from mangel.models import Category

    with app.app_context():
        other = Category(name="Sonstiges")
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    make_user(email="admin@town.example", roles=("admin",))
    auth.login(email="admin@town.example")
    response = form_post(
        f"/verwaltung/maengel/kategorien/{categories['main']}",
        {
            "name": "Straßen",
            "parent_id": str(other_id),
            "department_id": "0",
            "duplicate_radius_m": "50",
            "position": "0",
        },
    )
    assert response.status_code == 200
    assert "muss eine Hauptkategorie bleiben" in response.get_data(as_text=True)
