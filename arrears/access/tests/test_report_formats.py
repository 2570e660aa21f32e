"""Every report as a file and by name (arrears.reports.formats, the generic `arrears report
NAME`, `GET /api/reports/{name}`), on the hand book of test_reports.py and the cast's book of
people.py: the workbook's numbers are the JSON's, the PDF prints the figures and the charts, and
each role reads its own scope whichever door it takes.

The hand book's February-March by property (test_reports.py works it out): ELM billed 2000.00,
collected 1000.00, CEI 50.0000, DSO 31.00 / 29.50; OAK billed 1000.00, collected 0.00, CEI
3.3333, DSO 117.90 / 115.05.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from arrears.access.acts_reports import report_read
from arrears.access.services import SystemActor
from arrears.access.tests.people import cli
from arrears.access.tests.test_reports import CAST_DAY, hand_book  # noqa: F401 - a fixture
from arrears.core.pdf import pdf_text
from arrears.reports import registry
from arrears.reports.builtin import metrics_report, over_60_report
from arrears.reports.formats import to_bytes

pytestmark = pytest.mark.django_db

OPERATOR = SystemActor("root")
FEB, MAR = date(2026, 2, 1), date(2026, 3, 31)


def _metrics_by_property() -> Any:
    return report_read(actor=OPERATOR, name="metrics", as_of=MAR, date_from=FEB, by="property")


@pytest.mark.usefixtures("hand_book")
def test_the_workbook_holds_the_jsons_figures_as_numbers() -> None:
    doc = _metrics_by_property()
    book = load_workbook(BytesIO(to_bytes(doc, "xlsx")))
    # a sheet for the one table (USD), then what the report is
    assert book.sheetnames == ["USD", "About"]
    sheet = book["USD"]
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["group", "opening", "billed", "collected"]
    assert all(c.font.b for c in sheet[1])
    groups = doc.data["groups"]
    for row, group in zip(sheet.iter_rows(min_row=2, values_only=True), groups, strict=True):
        cells = dict(zip(header, row, strict=True))
        assert cells["group"] == group["key"]
        for label, key in (("billed", "billed"), ("collected", "collected"), ("CEI %", "cei")):
            assert isinstance(cells[label], int | float), (label, cells[label])
            assert Decimal(str(cells[label])) == Decimal(group[key])
        assert Decimal(str(cells["DSO count-back"])) == Decimal(group["dso_countback"])
    # ELM's CEI 50, OAK's 3.3333, as numbers formatted with two places, money with separators
    assert [sheet.cell(r, 7).value for r in (2, 3)] == [50, 3.3333]
    assert sheet.cell(2, 3).number_format == "#,##0.00"
    # a roll rate that is not defined (ELM's 31-60 bucket started empty) is an empty cell
    rolls = header.index("31-60->61-90")
    assert sheet.cell(2, rolls + 1).value is None
    assert book["About"]["A1"].value == "Collection metrics"


@pytest.mark.usefixtures("hand_book")
def test_the_over_60_workbook_has_its_total_in_bold_and_dates_as_text() -> None:
    doc = report_read(actor=OPERATOR, name="over-60", as_of=MAR)
    sheet = load_workbook(BytesIO(to_bytes(doc, "xlsx"))).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    # Ben's 950.00 over 60 of 1950.00 (test_reports.py), then the total of it
    assert rows[1][:4] == ("A-BEN", "OAK", 950, 1950)
    assert rows[2][0] == "Total"
    assert rows[2][2] == 950
    assert all(c.font.b for c in sheet[3])


@pytest.mark.usefixtures("hand_book")
def test_the_pdf_prints_the_title_the_charts_and_the_figures() -> None:
    text = pdf_text(to_bytes(_metrics_by_property(), "pdf"))
    assert "Collection metrics" in text
    assert "2026-02-01 to 2026-03-31" in text
    # amounts with their thousands grouped, as a person reads them
    for figure in ("2,000.00", "1,000.00", "50.0000", "3.3333", "117.90", "115.05"):
        assert figure in text, figure
    # the charts: billed beside collected on an axis of round dollars (ELM's 2,000 the peak:
    # 0 to 2,000 by 500), the CEI in percent (OAK's 3.3 under ELM's 50: 0 to 50 by 20? by
    # axis_ticks: 50 / 4 = 12.5, the next round step 20: 0, 20, 40, 60), DSO in days
    for mark in ("$2,000", "$500", "60%", "Days sales outstanding (DSO), USD"):
        assert mark in text, mark


@pytest.fixture
def probes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two reports registered as another module of the registry would register them: one of a
    day (the over-60's document) and one of a period with groupings (the metrics')."""
    registry.load()
    monkeypatch.setitem(
        registry.REPORTS,
        "probe-day",
        registry.Spec(
            "probe-day",
            "Probe of a day",
            lambda ask: replace(over_60_report(ask), name="probe-day"),
            summary="a report of a day",
        ),
    )
    monkeypatch.setitem(
        registry.REPORTS,
        "probe-period",
        registry.Spec(
            "probe-period",
            "Probe of a period",
            lambda ask: replace(metrics_report(ask), name="probe-period"),
            period=True,
            bys=("property",),
            summary="a report of a period",
        ),
    )


@pytest.mark.usefixtures("hand_book", "probes")
def test_a_registered_report_has_its_own_command(capsys: Any, tmp_path: Path) -> None:
    # the command's help lists it, with the options its registry entry allows
    with pytest.raises(SystemExit):
        cli(capsys, "report", "probe-period", "--help")
    usage = capsys.readouterr().out
    assert "--from D1" in usage
    assert "{property}" in usage
    # JSON: the report's data, the same as the metrics' own command prints
    words = ("--from", "2026-02-01", "--to", "2026-03-31", "--by", "property")
    code, out, err = cli(capsys, "report", "probe-period", *words, "--format", "json")
    assert code == 0, err
    code, own, _ = cli(capsys, "report", "metrics", *words, "--format", "json")
    assert json.loads(out) == json.loads(own)
    # the table: the document's
    code, out, _ = cli(capsys, "report", "probe-period", *words)
    assert "Collection metrics, 2026-02-01 to 2026-03-31" in out
    assert "117.90" in out
    # a grouping it has not is refused by the parser
    with pytest.raises(SystemExit):
        cli(capsys, "report", "probe-period", *words[:4], "--by", "portfolio")
    assert "invalid choice: 'portfolio'" in capsys.readouterr().err
    # a report of a day: --as-of, no --from
    code, out, err = cli(capsys, "report", "probe-day", "--as-of", "2026-03-31", "--format", "csv")
    assert code == 0, err
    assert out.splitlines()[1] == "A-BEN,OAK,950.00,1950.00,,"


@pytest.mark.usefixtures("hand_book", "probes")
def test_xlsx_and_pdf_need_a_file_and_are_written_to_it(capsys: Any, tmp_path: Path) -> None:
    code, out, err = cli(capsys, "report", "probe-day", "--format", "xlsx")
    assert code == 2
    assert "--format xlsx writes a file: name it with --output FILE" in err
    assert out == ""
    code, _, err = cli(
        capsys, "report", "metrics", "--from", "2026-02-01", "--to", "2026-03-31", "--format", "pdf"
    )
    assert code == 2
    assert "--output FILE" in err
    # with a file: the same bytes' text as reports.formats makes
    target = tmp_path / "m.pdf"
    words = ("--from", "2026-02-01", "--to", "2026-03-31", "--by", "property")
    code, _, err = cli(
        capsys, "report", "metrics", *words, "--format", "pdf", "--output", str(target)
    )
    assert code == 0, err
    assert "117.90" in pdf_text(target.read_bytes())
    book_file = tmp_path / "o.xlsx"
    code, _, err = cli(
        capsys,
        "report",
        "over-60",
        "--as-of",
        "2026-03-31",
        "--format",
        "xlsx",
        "--output",
        str(book_file),
    )
    assert code == 0, err
    assert load_workbook(book_file).worksheets[0]["A2"].value == "A-BEN"
    code, _, err = cli(
        capsys, "report", "probe-period", *words, "--format", "xlsx", "--output", str(book_file)
    )
    assert code == 0, err
    assert load_workbook(book_file).sheetnames == ["USD", "About"]


@pytest.mark.usefixtures("probes")
def test_each_role_reads_a_registered_report_of_its_own_scope_through_the_api(
    tokens: dict[str, str],
) -> None:
    from django.test import Client

    def ids(who: str, fmt: str = "json") -> Any:
        client = Client(HTTP_AUTHORIZATION=f"Bearer {tokens[who]}")
        return client.get(f"/api/reports/probe-day?as_of={CAST_DAY}&format={fmt}")

    # the cast's book on May 15: Tina (ELM) and Oscar (OAK, referred to Carol's firm) both over
    # 60 days; Bob manages ELM, Mallory another company's building
    seen = {
        who: [a["account_id"] for a in ids(who).json()["accounts"]]
        for who in ("alice", "dave", "bob", "carol", "mallory")
    }
    assert seen == {
        "alice": ["A-TINA", "A-OSCAR"],
        "dave": ["A-TINA", "A-OSCAR"],
        "bob": ["A-TINA"],
        "carol": ["A-OSCAR"],
        "mallory": [],
    }
    # the same scope in a file: Bob's workbook holds Tina's line and not Oscar's
    response = ids("bob", "xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response["Content-Disposition"] == 'attachment; filename="probe-day-2026-05-15.xlsx"'
    sheet = load_workbook(BytesIO(response.content)).worksheets[0]
    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == ["A-TINA", "Total"]
    pdf = ids("carol", "pdf")
    assert pdf["Content-Type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert "A-OSCAR" in text
    assert "A-TINA" not in text
    csv_text = ids("mallory", "csv").content.decode()
    assert "A-TINA" not in csv_text
    assert "A-OSCAR" not in csv_text


def test_the_api_names_the_report_and_refuses_what_it_cannot_answer(
    tokens: dict[str, str],
) -> None:
    from django.test import Client

    alice = Client(HTTP_AUTHORIZATION=f"Bearer {tokens['alice']}")
    # the two reports' own routes still answer with their contracts
    assert alice.get(f"/api/reports/over-60?as_of={CAST_DAY}").json()["as_of"] == CAST_DAY
    # and give the registry's files when asked for one
    pdf = alice.get(f"/api/reports/over-60?as_of={CAST_DAY}&format=pdf")
    assert pdf["Content-Disposition"] == 'attachment; filename="over-60-2026-05-15.pdf"'
    assert "A-OSCAR" in pdf_text(pdf.content)
    book = alice.get("/api/reports/metrics?from=2026-03-01&to=2026-03-31&format=xlsx")
    assert book["Content-Disposition"] == 'attachment; filename="metrics-2026-03-31.xlsx"'
    # errors in the API's envelope
    unknown = alice.get("/api/reports/nope")
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "unknown_report"
    bad = alice.get("/api/reports/nope?format=docx")
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid"
    anonymous = Client().get("/api/reports/over-60")
    assert anonymous.status_code == 401
