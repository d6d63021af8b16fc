"""What every PDF Lotse generates must be: tagged (PDF/UA), with language and title."""

from __future__ import annotations

import io

from pypdf import PdfReader

# Every route that answers with a PDF, and the test that checks it with assert_tagged_pdf.
PDF_ENDPOINTS = {
    "buchung.plan_pdf": "tests/buchung/test_plan_pdf.py",
    "buchung.season_plan_pdf": "tests/buchung/test_season_plan.py",
    "buchung_allocation_admin.export": "tests/buchung/test_allocation_pages.py",
    "buchung_fees_admin.bill_pdf": "tests/buchung/test_fees.py",
    "buchung_fees_club.bill_pdf": "tests/buchung/test_fees_pdf.py",
    "buchung_fees.bill_pdf": "tests/buchung/test_fees_pdf.py",
    "mangel_workbench.dossier_pdf": "tests/mangel/test_dossier.py",
    "mangel_workbench.street_dossier_pdf": "tests/mangel/test_dossier.py",
}


def assert_tagged_pdf(data: bytes, title: str, lang: str = "de") -> PdfReader:
    """A structure tree, the document language, a title shown instead of the file name,
    and fonts embedded: what a screen reader and PDF/UA need."""
    reader = PdfReader(io.BytesIO(data))
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root, "untagged PDF: no structure tree"
    assert root["/MarkInfo"]["/Marked"].value is True
    assert root["/Lang"] == lang
    assert reader.metadata.title == title
    assert root["/ViewerPreferences"]["/DisplayDocTitle"].value is True
    return reader
