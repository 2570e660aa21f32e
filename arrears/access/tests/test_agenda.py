"""The monthly meeting with a firm: the agenda (JSON, PDF, XLSX) lists each of the firm's cases
once with what changed since the last meeting, the hearings ahead, and the accounts recommended
for referral and not sent; the minutes go to each case's timeline, and the next month's agenda
starts from that meeting. On the workspace's cast: A-OSCAR is with Hale & Co."""

from __future__ import annotations

import io
import json
from datetime import date
from typing import Any

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from arrears.access.tests.people import FIRM, attorney_of_another_firm, cli, write_book
from arrears.ledger.models import Account, TimelineEvent
from arrears.ledger.services import book_import
from arrears.legal.models import Firm, Meeting, Referral
from arrears.legal.services import case_update, referral_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases(people: Any, book_clock: Any) -> dict[str, Referral]:
    """Hale & Co's two cases: A-OSCAR's (referred on March 26 by the cast) and A-TINA's,
    referred on April 2; in April, A-OSCAR's is filed and given a hearing."""
    oscar = Referral.objects.get(account__account_id="A-OSCAR", firm=FIRM)
    book_clock(date(2026, 4, 20))
    tina = referral_make(
        account=Account.objects.get(account_id="A-TINA"),
        firm=FIRM,
        on=date(2026, 4, 2),
        actor="alice",
    )
    today = date(2026, 4, 20)
    case_update(
        case=oscar,
        status="filed",
        on=date(2026, 4, 6),
        actor="carol",
        today=today,
        index_number="RG26-0101",
        court="Alameda County Superior Court",
    )
    case_update(case=oscar, status="hearing", on=date(2026, 5, 12), actor="carol", today=today)
    return {"oscar": oscar, "tina": tina}


def test_the_agenda_lists_each_case_once_with_its_changes_and_the_hearings_ahead(
    cases: dict[str, Referral], capsys: Any, tmp_path: Any
) -> None:
    # when the coordinator asks for April's agenda with Hale & Co as JSON
    code, out, err = cli(
        capsys,
        "--as",
        "alice",
        "legal",
        "agenda",
        "--firm",
        FIRM,
        "--month",
        "2026-04",
        "--format",
        "json",
    )
    assert code == 0, err
    doc = json.loads(out)
    # then each case is there once, the filed one first by status order (sent, filed… hearing)
    assert [(c["account_id"], c["status"]) for c in doc["cases"]] == [
        ("A-TINA", "sent"),
        ("A-OSCAR", "hearing"),
    ]
    assert doc["since"] == "2026-04-01"
    assert doc["last_meeting"] is None
    oscar = doc["cases"][1]
    # (recorded on April 20: a hearing set in April for May 12 is April's news)
    assert [c["status"] for c in oscar["changes"]] == ["filed", "hearing"]
    assert [c["status"] for c in doc["cases"][0]["changes"]] == ["sent"]
    assert oscar["index_number"] == "RG26-0101"
    assert oscar["balance"] == "950.00"
    assert doc["hearings"] == [
        {
            "case_id": cases["oscar"].pk,
            "account_id": "A-OSCAR",
            "hearing_on": "2026-05-12",
            "court": "Alameda County Superior Court",
            "index_number": "RG26-0101",
        }
    ]
    # and the month's recoveries: A-TINA, referred in April, has recovered nothing yet; Hale &
    # Co charges no flat fee
    assert doc["recoveries"] == {
        "cases": [
            {
                "case_id": cases["tina"].pk,
                "account_id": "A-TINA",
                "recovered": "0.00",
                "fees": "0.00",
                "net": "0.00",
            }
        ],
        "recovered": "0.00",
        "fees": "0.00",
        "net": "0.00",
    }
    assert doc["settlements_to_approve"] == []
    # and the PDF lists each case once, with the filing under the changes
    pdf = tmp_path / "agenda.pdf"
    code, out, err = cli(
        capsys,
        "--as",
        "alice",
        "legal",
        "agenda",
        "--firm",
        FIRM,
        "--month",
        "2026-04",
        "--output",
        str(pdf),
    )
    assert code == 0, err
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.read_bytes())).pages)
    assert "Hale & Co: monthly meeting, 2026-04" in text
    assert text.count("A-OSCAR") == 2  # its case row and its hearing
    assert text.count("A-TINA") == 2  # its case row and its month's recovery (referred in April)
    assert "2026-04-06 filed" in text
    # and the workbook holds the same rows
    xlsx = tmp_path / "agenda.xlsx"
    code, out, err = cli(
        capsys,
        "--as",
        "alice",
        "legal",
        "agenda",
        "--firm",
        FIRM,
        "--month",
        "2026-04",
        "--format",
        "xlsx",
        "--output",
        str(xlsx),
    )
    assert code == 0, err
    sheet = load_workbook(xlsx)["Cases"]
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert [r[1] for r in rows] == ["A-TINA", "A-OSCAR"]


def test_the_minutes_go_to_the_timelines_and_the_next_agenda_starts_from_the_meeting(
    cases: dict[str, Referral], capsys: Any, book_clock: Any, tmp_path: Any
) -> None:
    oscar = cases["oscar"]
    # when the meeting of April 21 is recorded with a note on A-OSCAR's case
    book_clock(date(2026, 4, 21))
    code, _out, err = cli(
        capsys,
        "--as",
        "carol",
        "legal",
        "minutes",
        "--firm",
        FIRM,
        "--month",
        "2026-04",
        "--on",
        "2026-04-21",
        "--case",
        f"{oscar.pk}:the tenant asks for an adjournment",
    )
    assert code == 0, err
    # then the note is on the account's timeline, and the meeting is kept
    note = TimelineEvent.objects.get(account=oscar.account, kind="case.minutes")
    assert "the tenant asks for an adjournment" in note.summary
    assert Meeting.objects.get(firm=FIRM, month="2026-04").held_on == date(2026, 4, 21)
    # and May's agenda tells what changed since April 21 only
    book_clock(date(2026, 5, 20))
    case_update(
        case=oscar,
        status="judgment",
        on=date(2026, 5, 12),
        actor="carol",
        today=date(2026, 5, 20),
        amount=950,
    )
    # and Oscar paid 401.00 on May 15, of which 25% is the firm's: 100.25, net 300.75
    book_import(
        write_book(
            tmp_path / "pay",
            {
                "transactions": [
                    {
                        "txn_id": "PAY-OSCAR-0515",
                        "account_id": "A-OSCAR",
                        "posted": "2026-05-15",
                        "type": "payment",
                        "amount": "401.00",
                    }
                ]
            },
        )
    )
    code, out, err = cli(
        capsys,
        "--as",
        "alice",
        "legal",
        "agenda",
        "--firm",
        FIRM,
        "--month",
        "2026-05",
        "--format",
        "json",
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["last_meeting"] == "2026-04-21"
    changes = {c["account_id"]: [e["status"] for e in c["changes"]] for c in doc["cases"]}
    assert changes == {"A-TINA": [], "A-OSCAR": ["judgment"]}
    assert (doc["recoveries"]["recovered"], doc["recoveries"]["fees"]) == ("401.00", "100.25")
    assert doc["recoveries"]["net"] == "300.75"
    # and a note on a case of another firm is refused, nothing written
    Firm.objects.create(name="Other Firm LLP", created_on=date(2026, 5, 1))
    other = Referral.objects.create(
        account=oscar.account,
        firm="Other Firm LLP",
        referred_on=date(2026, 5, 1),
        referred_by="alice",
    )
    code, _out, err = cli(
        capsys,
        "--as",
        "alice",
        "legal",
        "minutes",
        "--firm",
        FIRM,
        "--month",
        "2026-05",
        "--case",
        f"{other.pk}:not ours",
    )
    assert (code, err) == (2, f"arrears legal: case {other.pk} is not a case of {FIRM}\n")
    assert not Meeting.objects.filter(month="2026-05").exists()


def test_another_firms_attorney_cannot_read_the_agenda(
    cases: dict[str, Referral], capsys: Any
) -> None:
    attorney_of_another_firm("otto")
    code, _out, err = cli(
        capsys, "--as", "otto", "legal", "agenda", "--firm", FIRM, "--format", "json"
    )
    assert (code, err) == (2, f"arrears legal: no firm is named {FIRM}\n")
    # and the firm's own attorney reads it
    code, _out, err = cli(
        capsys, "--as", "carol", "legal", "agenda", "--firm", FIRM, "--format", "json"
    )
    assert code == 0, err
    # and a property manager may not
    code, _out, err = cli(
        capsys, "--as", "bob", "legal", "agenda", "--firm", FIRM, "--format", "json"
    )
    assert code == 2


def test_the_agenda_page_downloads_and_records_the_minutes_within_each_ones_scope(
    cases: dict[str, Referral], people: Any, book_clock: Any
) -> None:
    from arrears.access.tests.people import signed_in

    book_clock(date(2026, 4, 21))
    query = {"firm": FIRM, "month": "2026-04"}
    # the coordinator reads the agenda, and it lists both cases
    page = signed_in(people["alice"]).get("/cases/agenda/", query)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="agenda-case-' in html
    assert html.count('id="agenda-case-') == 2
    # and downloads it as the PDF the command writes
    pdf = signed_in(people["alice"]).get("/cases/agenda.pdf", query)
    assert pdf["Content-Type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Hale & Co: monthly meeting, 2026-04" in text
    # the firm's attorney records the minutes from the form: on the timeline
    oscar = cases["oscar"]
    answer = signed_in(people["carol"]).post(
        "/cases/agenda/minutes/",
        {**query, "held_on": "2026-04-21", f"minutes-{oscar.pk}": "adjourned to May 12"},
    )
    assert answer.status_code == 302
    assert TimelineEvent.objects.filter(account=oscar.account, kind="case.minutes").count() == 1
    # an empty form is refused in words, and writes nothing
    refused = signed_in(people["carol"]).post("/cases/agenda/minutes/", {**query})
    assert refused.status_code == 422
    assert "write a note on at least one case" in refused.content.decode()
    # another firm's attorney asking for Hale & Co's gets their own firm's, with none of it; a
    # manager may not read agendas
    otto = attorney_of_another_firm("otto")
    assert signed_in(otto).get("/cases/agenda/", query).content.decode().count("agenda-case-") == 0
    theirs = signed_in(otto).get("/cases/agenda.pdf", query)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(theirs.content)).pages)
    assert "Other Firm LLP: monthly meeting" in text
    assert "A-OSCAR" not in text
    assert "Hale" not in text
    assert signed_in(people["bob"]).get("/cases/agenda/", query).status_code == 403
