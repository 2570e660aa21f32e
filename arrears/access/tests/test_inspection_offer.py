"""The pre-move-out inspection offer sent by the daily run (issue 16, item 3), from the command
line, on both databases, the letters printed by the letters batch and read back, and what the
account page says of it.

It is March 10th, 2026. Nina Ortiz (Hudson Rows, Troy, New York) has given notice: her lease ends
on April 9th, 30 days from now; she owes nothing and left a deposit of 1,800.00. New York asks
the landlord to offer her an inspection before she leaves, made between two weeks and one week
before the tenancy ends (N.Y. Gen. Oblig. Law §7-108(1-a)(d)): from March 26th to April 2nd.
Carlos Vega (Mission Flats, San Francisco), who reads Spanish, leaves on the same day: California
asks the same offer, the inspection no earlier than two weeks before (Cal. Civ. Code
§1950.5(f)(1)): from March 26th to April 9th. Tom Reed (Lone Star Lofts, Austin, Texas: the
default rule, no offer) leaves too. Paula Marsh left Hudson Rows on March 1st, and Ned Hale has
no end date: neither is owed an offer.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from arrears.access.services import user_add
from arrears.access.tests.people import OPERATOR, write_book
from arrears.cli import main
from arrears.core.pdf import pdf_text
from arrears.correspondence.archive import archive_read
from arrears.correspondence.models import Outbound
from arrears.dunning.models import RunLog
from arrears.ledger.models import Account, TimelineEvent
from arrears.ledger.services import book_import

pytestmark = pytest.mark.django_db

ON = "2026-03-10"
VACATE = "2026-04-09"


def _property(pid: str, name: str, city: str, state: str, postal: str) -> dict[str, str]:
    return {
        "property_id": pid,
        "name": name,
        "address": f"4 {name}",
        "city": city,
        "state": state,
        "postal_code": postal,
        "country": "US",
    }


def _tenant(pid: str, name: str, language: str = "en") -> dict[str, str]:
    return {
        "party_id": pid,
        "name": name,
        "address": "77 Elm Street",
        "city": "Albany",
        "state": "NY",
        "postal_code": "12203",
        "country": "US",
        "language": language,
    }


def _lease(account_id: str, property_id: str, closed: str = "") -> dict[str, str]:
    row = {
        "account_id": account_id,
        "property_id": property_id,
        "unit": "2",
        "kind": "residential_lease",
        "opened": "2025-01-01",
        "rent": "1225.00",
        "deposit_held": "1800.00",
    }
    if closed:
        row["closed"] = closed
    return row


LEASES = [
    ("A-NY", "HUD", "P-NINA", VACATE),
    ("A-CA", "MIS", "P-CARLOS", VACATE),
    ("A-TX", "LSL", "P-TOM", VACATE),
    ("A-LEFT", "HUD", "P-PAULA", "2026-03-01"),
    ("A-STAY", "HUD", "P-NED", ""),
]

BOOK: dict[str, list[dict[str, str]]] = {
    "properties": [
        _property("HUD", "Hudson Rows", "Troy", "NY", "12180"),
        _property("MIS", "Mission Flats", "San Francisco", "CA", "94110"),
        _property("LSL", "Lone Star Lofts", "Austin", "TX", "78701"),
    ],
    "parties": [
        _tenant("P-NINA", "Nina Ortiz"),
        _tenant("P-CARLOS", "Carlos Vega", "es"),
        _tenant("P-TOM", "Tom Reed"),
        _tenant("P-PAULA", "Paula Marsh"),
        _tenant("P-NED", "Ned Hale"),
    ],
    "accounts": [_lease(a, p, closed) for a, p, _party, closed in LEASES],
    "account_parties": [
        {"account_id": a, "party_id": party, "role": "primary"} for a, _p, party, _c in LEASES
    ],
    # March's rent charged and paid: Nina owes nothing, so the main run never sees her.
    "transactions": [
        {
            "txn_id": "T-NY-3",
            "account_id": "A-NY",
            "posted": "2026-03-01",
            "type": "charge",
            "code": "RENT",
            "amount": "1225.00",
            "due": "2026-03-01",
        },
        {
            "txn_id": "P-NY-3",
            "account_id": "A-NY",
            "posted": "2026-03-02",
            "type": "payment",
            "amount": "1225.00",
        },
    ],
}


@pytest.fixture
def leases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any) -> Path:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    monkeypatch.setenv("ARREARS_TODAY", ON)
    book_import(write_book(tmp_path / "book", BOOK))
    user_add(
        username="cora",
        password="a-long-test-password",
        role="coordinator",
        actor=OPERATOR,
        via="system",
    )
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *words: str) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["--as", "cora", "run", "--date", ON, *words, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def offers() -> list[tuple[str, str, str]]:
    return list(
        Outbound.objects.filter(template="inspection-offer")
        .order_by("account__account_id")
        .values_list("account__account_id", "party__party_id", "channel")
    )


def printed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    """The day's letters printed by the letters batch: each offer's PDF read back, as words."""
    capsys.readouterr()
    code = main(
        [
            "--as",
            "cora",
            "letters",
            "batch",
            "--date",
            ON,
            "--output",
            str(tmp_path / "print"),
            "--workers",
            "1",
        ]
    )
    assert code == 0, capsys.readouterr()
    out = {}
    for row in Outbound.objects.filter(template="inspection-offer").select_related("account"):
        assert row.status == "rendered"
        assert row.document is not None
        out[row.account.account_id] = " ".join(pdf_text(archive_read(row.document)).split())
    return out


def test_nina_and_carlos_are_offered_an_inspection_once_over_two_runs_and_no_one_else(
    leases, capsys
):
    # given the book as of March 10th: no one but Nina had a charge, and hers is paid

    # when the daily run runs, then runs again the same day
    first = run(capsys)
    second = run(capsys)

    # then Nina (New York) and Carlos (California) are each sent one letter, and no one else
    assert offers() == [("A-CA", "P-CARLOS", "letter"), ("A-NY", "P-NINA", "letter")]
    assert [
        (x["account_id"], x["vacate_on"], x["inspection_from"], x["inspection_until"], x["rule"])
        for x in first["inspection_offers"]
    ] == [
        ("A-NY", VACATE, "2026-03-26", "2026-04-02", None),
        ("A-CA", VACATE, "2026-03-26", VACATE, None),
    ]
    assert all(x["letter_id"] for x in first["inspection_offers"])
    # and the second run sends nothing new
    assert second["inspection_offers"] == []
    assert [log.counts["inspection_offers"] for log in RunLog.objects.order_by("id")] == [2, 0]
    # and each offer is on its account's timeline, with its window and its law
    offered = TimelineEvent.objects.get(kind="inspection.offered", account__account_id="A-NY")
    assert offered.detail["law"] == "N.Y. Gen. Oblig. Law §7-108(1-a)(d)"
    assert offered.detail["inspection_from"] == "2026-03-26"
    assert offered.detail["offer_by"] == "2026-03-19"
    assert TimelineEvent.objects.filter(kind="inspection.offered").count() == 2
    assert not TimelineEvent.objects.filter(
        kind="inspection.offered", account__account_id__in=["A-TX", "A-LEFT", "A-STAY"]
    ).exists()


def test_the_printed_offers_name_the_inspection_window_in_the_tenants_language(
    leases, capsys, tmp_path
):
    # given the run's offers
    run(capsys)

    # when the day's letters are printed
    text = printed(tmp_path, capsys)

    # then Nina's names her tenancy's end, the window's dates, the notice and how to ask
    nina = text["A-NY"]
    assert "Your right to an inspection before you move out (A-NY)" in nina
    assert "ends on April 9, 2026" in nina
    assert "between March 26, 2026 and April 2, 2026" in nina
    assert "at least 48 hours before" in nina
    assert "(718) 555-0100" in nina
    assert "naming the account A-NY" in nina
    assert "This notice is given under N.Y. Gen. Oblig. Law §7-108(1-a)(d)." in nina
    # and Carlos's, in Spanish, the window up to his last day, under California's law
    carlos = text["A-CA"]
    assert "Su derecho a una inspección antes de mudarse (A-CA)" in carlos
    assert "termina el 9 de abril de 2026" in carlos
    assert "entre el 26 de marzo de 2026 y el 9 de abril de 2026" in carlos
    assert "Este aviso se da conforme a Cal. Civ. Code §1950.5(f)." in carlos


def test_a_dry_run_says_what_it_would_send_and_sends_nothing(leases, capsys):
    # when the run is only tried
    tried = run(capsys, "--dry-run")

    # then it lists the two offers, with no letter, and nothing is queued or written
    assert [(x["account_id"], x["letter_id"]) for x in tried["inspection_offers"]] == [
        ("A-NY", None),
        ("A-CA", None),
    ]
    assert offers() == []
    assert not TimelineEvent.objects.filter(kind="inspection.offered").exists()

    # and the real run after it sends them
    assert len(run(capsys)["inspection_offers"]) == 2


def test_the_run_table_counts_the_offers(leases, capsys):
    capsys.readouterr()
    assert main(["--as", "cora", "run", "--date", ON]) == 0
    out = capsys.readouterr().out
    assert "sent 2 pre-move-out inspection offers." in out
    assert "A-NY" in out
    assert "2026-04-02" in out


def test_a_changed_vacate_date_makes_a_new_offer(leases, capsys, monkeypatch):
    # given Nina's offer sent for April 9th
    run(capsys)
    # when her tenancy is extended to April 30th (a new notice) and the next day's run runs
    Account.objects.filter(account_id="A-NY").update(closed_on=date(2026, 4, 30))
    monkeypatch.setenv("ARREARS_TODAY", "2026-03-11")
    capsys.readouterr()
    assert main(["--as", "cora", "run", "--date", "2026-03-11", "--format", "json"]) == 0
    again = json.loads(capsys.readouterr().out)

    # then a second offer goes to her, for the new date and its window
    assert [
        (x["account_id"], x["vacate_on"], x["inspection_from"], x["inspection_until"])
        for x in again["inspection_offers"]
    ] == [("A-NY", "2026-04-30", "2026-04-16", "2026-04-23")]
    assert offers().count(("A-NY", "P-NINA", "letter")) == 2


def test_a_hold_to_cease_contact_refuses_the_offer_once_on_the_timeline(leases, capsys):
    # given Nina asked in writing that the company stop contacting her
    capsys.readouterr()
    assert main(["--as", "cora", "hold", "A-NY", "--reason", "cease", "--on", "2026-03-01"]) == 0

    # when the run runs twice
    first = run(capsys)
    run(capsys)

    # then no letter is queued for her; the refusal names the rule and is written once
    refused = [x for x in first["inspection_offers"] if x["account_id"] == "A-NY"]
    assert [(x["letter_id"], x["rule"]) for x in refused] == [(None, "hold:cease")]
    assert ("A-NY", "P-NINA", "letter") not in offers()
    assert (
        TimelineEvent.objects.filter(kind="letter.refused", account__account_id="A-NY").count() == 1
    )


def test_the_account_page_says_when_the_offer_is_due_then_when_it_was_sent(leases, capsys, client):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="cora"))

    # given no run yet: the page says the offer is due by March 19th (21 days before)
    page = client.get("/accounts/A-NY/").content.decode()
    assert "moves out on 2026-04-09" in page
    assert "Inspection offer due by 2026-03-19" in page
    assert "inspection between 2026-03-26 and 2026-04-02" in page
    assert "Not disposed of yet." not in page

    # when the run sends it, the page says so
    run(capsys)
    page = client.get("/accounts/A-NY/").content.decode()
    assert "Inspection offer sent on 2026-03-10" in page
    assert "Inspection offer due by" not in page

    # and a Texas lease (no offer required) says nothing of one
    page = client.get("/accounts/A-TX/").content.decode()
    assert "Inspection offer" not in page


def test_a_company_switches_the_offer_on_for_the_default_jurisdiction_in_its_own_rules(
    leases, capsys, settings, tmp_path
):
    # given the company's own rules: an offer everywhere else too, 30 days ahead, inspected from
    # 10 days to 3 days before the end
    rules = tmp_path / "rules.toml"
    rules.write_text(
        "[default]\n"
        "inspection_offer = true\n"
        "inspection_offer_days = 30\n"
        "inspection_from_days = 10\n"
        "inspection_until_days = 3\n"
        'inspection_law = "the company\'s lease, clause 12"\n',
        encoding="utf-8",
    )
    settings.ARREARS_DEPOSIT_RULES = str(rules)

    # when the run runs
    sent = run(capsys)["inspection_offers"]

    # then Tom (Texas) is offered one too, with the company's window; New York's is unchanged
    windows = {x["account_id"]: (x["inspection_from"], x["inspection_until"]) for x in sent}
    assert windows == {
        "A-NY": ("2026-03-26", "2026-04-02"),
        "A-CA": ("2026-03-26", VACATE),
        "A-TX": ("2026-03-30", "2026-04-06"),
    }
    assert ("A-TX", "P-TOM", "letter") in offers()
