"""A clerk blacks out a face on a citizen's photo by drawing a rectangle over it, then
closes the report as "erledigt" with a photo of the repaired spot: the public report page
shows the redacted photo only, and the photo "danach" with the closing note."""

from __future__ import annotations

import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import select

from lotse.extensions import db
from lotse.models import Department, utcnow
from tests.e2e.support import CLERK, assert_accessible

NOTE = "Die Bordsteinkante ist neu gesetzt."
# Where the "face" sits on the 1000 × 750 photo, in its pixels.
FACE = (600, 150, 800, 350)
SPOT = {"phone": (50.7437, 6.4871), "desktop": (50.7496, 6.4951)}


def jpeg(colour, face: bool = False) -> bytes:
    image = Image.new("RGB", (1000, 750), colour)
    if face:
        image.paste((220, 30, 30), FACE)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


def report_with_a_face(live_server, viewport: str) -> int:
    """A confirmed Tiefbau report whose photo shows somebody's face (red)."""
    from mangel import services
    from mangel.models import Category, Report, ReportPhoto, StatusChange
    from mangel.photos import process_photo, save_photo

    with live_server.app_context():
        category = db.session.scalar(
            select(Category).where(Category.name == "Straßenschaden/Schlagloch")
        )
        tiefbau = db.session.scalar(select(Department).where(Department.name == "Tiefbau"))
        processed = process_photo(
            io.BytesIO(jpeg((90, 90, 95), face=True)), max_bytes=10**7, max_pixels=10**8
        )
        name, thumb = save_photo(processed, services.upload_dir())
        lat, lon = SPOT[viewport]
        report = Report(
            category=category,
            department=tiefbau,
            lat=lat,
            lon=lon,
            street="Marktplatz",
            nearest_address="Marktplatz 3",
            description=f"Bordstein lose ({viewport}), ein Passant steht im Bild.",
            reporter_email=f"bord-{viewport}@example.org",
            confirmed_at=utcnow(),
        )
        report.history.append(StatusChange(status="open"))
        report.photos.append(
            ReportPhoto(
                file_name=name,
                thumb_name=thumb,
                width=processed.width,
                height=processed.height,
            )
        )
        db.session.add(report)
        db.session.commit()
        return report.id


def drag_over_face(page: Page, viewport: str) -> None:
    """Draw the rectangle with the pointer: mouse on the desk, a finger-sized drag on the phone."""
    stage = page.locator("[data-redact-stage] img")
    expect(stage).to_be_visible()
    stage.scroll_into_view_if_needed()
    box = stage.bounding_box()
    scale = box["width"] / 1000
    left, top = box["x"] + (FACE[0] - 15) * scale, box["y"] + (FACE[1] - 15) * scale
    right, bottom = box["x"] + (FACE[2] + 15) * scale, box["y"] + (FACE[3] + 15) * scale
    page.mouse.move(left, top)
    page.mouse.down()
    page.mouse.move((left + right) / 2, (top + bottom) / 2, steps=5)
    page.mouse.move(right, bottom, steps=5)
    page.mouse.up()


def test_clerk_redacts_by_drawing_and_closes_with_an_after_photo(
    page: Page, viewport: str, live_server, log_in, shoot, tmp_path
):
    number = report_with_a_face(live_server, viewport)
    log_in(page, CLERK)
    page.goto(f"/verwaltung/maengel/meldungen/{number}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Meldung Nr. {number}:")
    shoot("report")
    height = page.evaluate("document.documentElement.scrollHeight")
    print(f"report page height at {viewport}: {height} px")
    assert height < (2900 if viewport == "phone" else 1700)
    assert_accessible(page)

    page.get_by_text("Foto 1: Bereiche schwärzen").click()
    drag_over_face(page, viewport)
    expect(page.get_by_text("1 Rechteck zum Schwärzen markiert.")).to_be_visible()
    expect(page.locator(".redact__box")).to_have_count(1)
    shoot("drawn")
    page.get_by_role("button", name="Schwärzen").click()
    expect(page.get_by_role("status")).to_have_text("Der Bereich ist geschwärzt.")

    page.get_by_text("Freigabe und Moderation").click()
    page.get_by_label("Beschreibung freigeben").check()
    page.get_by_label("Fotos freigeben").check()
    page.get_by_role("button", name="Freigabe speichern").click()
    expect(page.get_by_role("status")).to_have_text("Die Freigabe ist gespeichert.")

    after = tmp_path / "nachher.jpg"
    after.write_bytes(jpeg((40, 140, 60)))
    page.get_by_label("Neuer Status").select_option(label="erledigt")
    page.get_by_label("Öffentliche Notiz").fill(NOTE)
    page.get_by_label("Foto danach (freiwillig)").set_input_files(after)
    page.get_by_role("button", name="Status speichern").click()
    expect(page.get_by_role("status")).to_have_text(
        "Der Status ist geändert; das Foto danach ist veröffentlicht."
    )
    page.get_by_text(re.compile(r"^Protokoll \(")).click()
    log = page.get_by_role("table", name="Protokoll aller Bearbeitungen")
    expect(log).to_contain_text("Foto geschwärzt")
    expect(log).to_contain_text("Foto danach veröffentlicht")
    shoot("closed")

    # The public: the redacted photo only, and the photo "danach" with the closing note.
    page.goto(f"/maengel/{number}")
    expect(page.locator(".facts")).to_contain_text("erledigt")
    expect(page.locator(".history").get_by_text(NOTE)).to_be_visible()
    before = page.get_by_role("img", name="Foto 1 zur Meldung, vergrößern")
    expect(before).to_be_visible()
    after_img = page.get_by_role("img", name="Die Stelle nach der Erledigung, Foto 1, vergrößern")
    expect(after_img).to_be_visible()
    after_block = page.get_by_role("region", name="Foto danach")
    today = datetime.now(ZoneInfo("Europe/Berlin"))
    expect(after_block).to_contain_text(f"erledigt, {today:%d.%m.%Y}: {NOTE}")
    full = page.get_by_role("link").filter(has=before).get_attribute("href")
    served = Image.open(io.BytesIO(page.request.get(full).body())).convert("RGB")
    centre = ((FACE[0] + FACE[2]) // 2, (FACE[1] + FACE[3]) // 2)
    assert max(served.getpixel(centre)) < 40  # the face is black
    assert served.getpixel((100, 600))[0] > 60  # the rest is the photo
    assert_accessible(page)
    shoot("public")
