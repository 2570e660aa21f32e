"""The reports on the pages (arrears/web/views_reports.py): the index, a report with its form,
charts, tables and downloads, each role within its scope, and a bad day said beside the form.

The cast's book (arrears.access.tests.people): in March 2026 Tina's lease at Elm Court (A-TINA)
is billed 1,200.00 and Oscar's at Oak Terrace (A-OSCAR, referred to Carol's firm) nothing
(February's 950.00 is open); on May 15 both are more than 60 days past due.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from io import BytesIO
from typing import Any

import pytest
from openpyxl import load_workbook

from arrears.access.tests.people import signed_in
from arrears.core.pdf import pdf_text

pytestmark = pytest.mark.django_db

MARCH = "from=2026-03-01&to=2026-03-31&by=property"


def test_the_index_lists_the_reports_and_the_header_links_to_it(people: Any) -> None:
    page = signed_in(people["bob"]).get("/reports/")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'href="/reports/metrics/"' in text
    assert 'href="/reports/over-60/"' in text
    assert "receivables, billed, collected, CEI, DSO and roll rates of a period" in text
    assert '<a href="/reports/" aria-current="page">Reports</a>' in text


def test_the_metrics_page_draws_its_charts_and_tables_within_the_readers_scope(
    people: Any,
) -> None:
    alice = signed_in(people["alice"]).get(f"/reports/metrics/?{MARCH}").content.decode()
    bob = signed_in(people["bob"]).get(f"/reports/metrics/?{MARCH}").content.decode()
    # the charts, inline SVG that parses, named by their titles
    svgs = [s.split("</svg>")[0] + "</svg>" for s in alice.split("<svg")[1:]]
    assert len(svgs) == 3
    roots = [ET.fromstring("<svg" + s) for s in svgs]
    assert {r.get("role") for r in roots} == {"img"}
    assert "Billed and collected, 2026-03-01 to 2026-03-31 (USD)" in alice
    # Alice sees both buildings, Bob his only: Tina's 1,200.00 billed, no Oak Terrace
    assert "<td>OAK</td>" in alice
    assert "<td>ELM</td>" in bob
    assert "OAK" not in bob
    assert '<td class="num">1,200.00</td>' in bob  # thousands grouped on the page
    # the downloads carry the same query
    assert (
        'href="/reports/metrics/download/pdf/?to=2026-03-31&amp;from=2026-03-01&amp;by=property"'
        in bob
    )


def test_the_downloads_are_the_readers_report_as_files(people: Any) -> None:
    bob = signed_in(people["bob"])
    book = bob.get(f"/reports/metrics/download/xlsx/?{MARCH}")
    assert book.status_code == 200
    assert book["Content-Disposition"] == 'attachment; filename="metrics-2026-03-31.xlsx"'
    sheet = load_workbook(BytesIO(book.content)).worksheets[0]
    assert [r[:3] for r in sheet.iter_rows(min_row=2, values_only=True)] == [("ELM", 0, 1200)]
    pdf = bob.get(f"/reports/metrics/download/pdf/?{MARCH}")
    assert pdf["Content-Type"] == "application/pdf"
    assert "1,200.00" in pdf_text(pdf.content)
    csv_text = bob.get(f"/reports/metrics/download/csv/?{MARCH}").content.decode()
    assert csv_text.splitlines()[1].startswith("ELM,0.00,1200.00")
    carol = signed_in(people["carol"]).get("/reports/over-60/download/csv/?as_of=2026-05-15")
    assert "A-OSCAR" in carol.content.decode()
    assert "A-TINA" not in carol.content.decode()
    assert bob.get("/reports/metrics/download/docx/").status_code == 404


def test_a_report_with_no_period_shows_the_month_to_date_and_a_bad_day_is_said(
    people: Any,
) -> None:
    dave = signed_in(people["dave"])
    # no period asked: March 1 to the book's day, March 26
    page = dave.get("/reports/metrics/").content.decode()
    assert "2026-03-01 to 2026-03-26" in page
    bad = dave.get("/reports/metrics/?from=2026-13-01&to=2026-03-31")
    assert bad.status_code == 422
    assert "2026-13-01 is not a date" in bad.content.decode()
    reversed_ = dave.get("/reports/metrics/?from=2026-04-01&to=2026-03-31")
    assert reversed_.status_code == 422
    assert "before it starts" in reversed_.content.decode()
    assert dave.get("/reports/metrics/download/pdf/?from=nope").status_code == 422
    assert dave.get("/reports/nope/").status_code == 404


def test_someone_not_signed_in_is_sent_to_sign_in(people: Any) -> None:
    from django.test import Client

    for url in ("/reports/", "/reports/metrics/", "/reports/metrics/download/csv/"):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/signin/")
