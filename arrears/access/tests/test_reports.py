"""The reports' two contracts (`arrears report metrics`, `arrears report over-60`) on a small
book worked by hand, the over-60 report against the aging, and each role's scope.

The hand book (Ann at Elm Court, rent 1,000; Ben at Oak Terrace, rent 500), period February 1
to March 31, 2026 (28 + 31 = 59 days):

    ann-1  2026-01-01 charge  1000.00 due 01-01     ann-2  01-05 payment 1000.00 (pays ann-1)
    ann-3  2026-02-01 charge  1000.00 due 02-01     ann-4  02-10 payment  400.00 (ann-3: 600 open)
    ann-5  2026-03-01 charge  1000.00 due 03-01     ann-6  03-15 payment  600.00 (pays ann-3)
    ben-1  2025-12-01 charge   500.00 due 12-01     ben-2  01-01 charge   500.00 due 01-01
    ben-3  2026-02-15 payment  500.00 (pays ben-1)  ben-4  02-20 reversal of ben-3 (ben-1 open)
    ben-5  2026-03-01 charge   500.00 due 03-01     ben-6  03-20 credit    50.00 (ben-1: 450 open)
    ben-7  2026-03-25 charge   500.00 due 04-01 (April's rent billed ahead: current on March 31)

Ann: opening (Jan 31) 0; billed 2000 (ann-3, ann-5); collected 400 + 600 = 1000; closing (Mar
31) 1000 (ann-5); current 0.
Ben: opening 1000 (ben-1, ben-2); billed 1000 (ben-5, ben-7); collected 500 - 500 = 0 (the
credit is no collection); closing 450 + 500 + 500 + 500 = 1950; current 500 (ben-7).
All: opening 1000, billed 3000, collected 1000, closing 2950, current 500.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from arrears.access.tests.people import cli, write_book
from arrears.ledger.services import book_import

pytestmark = pytest.mark.django_db

PROPERTIES = [
    {"property_id": "ELM", "name": "Elm Court", "state": "NY", "country": "US", "portfolio": "NYC"},
    {
        "property_id": "OAK",
        "name": "Oak Terrace",
        "state": "CA",
        "country": "US",
        "portfolio": "CA",
    },
]


def _txn(txn_id: str, posted: str, type_: str, amount: str, **more: str) -> dict[str, str]:
    account = "A-ANN" if txn_id.startswith("ann") else "A-BEN"
    row = {"txn_id": txn_id, "account_id": account, "posted": posted, "type": type_}
    row |= {"amount": amount, "code": more.get("code", ""), "due": more.get("due", "")}
    row |= {"applies_to": "", "reverses": more.get("reverses", "")}
    if type_ == "charge":
        row["code"] = "RENT"
        row["due"] = more.get("due", posted)
    return row


HAND_BOOK = {
    "properties": PROPERTIES,
    "parties": [
        {"party_id": "P-ANN", "name": "Ann Lee", "state": "NY", "country": "US"},
        {"party_id": "P-BEN", "name": "Ben Cruz", "state": "CA", "country": "US"},
    ],
    "accounts": [
        {
            "account_id": "A-ANN",
            "property_id": "ELM",
            "kind": "residential_lease",
            "opened": "2025-11-01",
        },
        {
            "account_id": "A-BEN",
            "property_id": "OAK",
            "kind": "residential_lease",
            "opened": "2025-11-01",
        },
    ],
    "account_parties": [
        {"account_id": "A-ANN", "party_id": "P-ANN", "role": "primary"},
        {"account_id": "A-BEN", "party_id": "P-BEN", "role": "primary"},
    ],
    "transactions": [
        _txn("ben-1", "2025-12-01", "charge", "500.00"),
        _txn("ann-1", "2026-01-01", "charge", "1000.00"),
        _txn("ben-2", "2026-01-01", "charge", "500.00"),
        _txn("ann-2", "2026-01-05", "payment", "1000.00"),
        _txn("ann-3", "2026-02-01", "charge", "1000.00"),
        _txn("ann-4", "2026-02-10", "payment", "400.00"),
        _txn("ben-3", "2026-02-15", "payment", "500.00"),
        _txn("ben-4", "2026-02-20", "reversal", "500.00", reverses="ben-3"),
        _txn("ann-5", "2026-03-01", "charge", "1000.00"),
        _txn("ben-5", "2026-03-01", "charge", "500.00"),
        _txn("ann-6", "2026-03-15", "payment", "600.00"),
        _txn("ben-6", "2026-03-20", "credit", "50.00", code="CONC"),
        _txn("ben-7", "2026-03-25", "charge", "500.00", due="2026-04-01"),
    ],
}


@pytest.fixture
def hand_book(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARREARS_TODAY", "2026-04-15")
    book_import(write_book(tmp_path / "hand", HAND_BOOK))


def _json(capsys: Any, *words: str) -> Any:
    code, out, err = cli(capsys, *words)
    assert code == 0, err
    return json.loads(out)


def test_the_metrics_of_the_whole_book_are_the_hand_computed_figures(
    hand_book: None, capsys: Any
) -> None:
    # when the operator asks for February and March's metrics
    doc = _json(
        capsys,
        "report",
        "metrics",
        "--from",
        "2026-02-01",
        "--to",
        "2026-03-31",
        "--format",
        "json",
    )
    # then the document has exactly the contract's keys, with one group, ALL
    assert list(doc) == ["from", "to", "currency", "groups"]
    assert (doc["from"], doc["to"], doc["currency"]) == ("2026-02-01", "2026-03-31", "USD")
    (group,) = doc["groups"]
    assert list(group) == [
        "key",
        "opening_receivables",
        "billed",
        "collected",
        "closing_receivables",
        "closing_current",
        "cei",
        "dso_countback",
        "dso_simple",
        "roll_rates",
    ]
    assert group["key"] == "ALL"
    assert group["opening_receivables"] == "1000.00"
    assert group["billed"] == "3000.00"
    assert group["collected"] == "1000.00"
    assert group["closing_receivables"] == "2950.00"
    assert group["closing_current"] == "500.00"
    # CEI = (1000 + 3000 - 2950) / (1000 + 3000 - 500) * 100 = 1050 / 3500 * 100 = 30
    assert group["cei"] == "30.0000"
    # simple: 2950 / 3000 * 59 = 58.0166... days
    assert group["dso_simple"] == "58.02"
    # count-back: March billed 2000 (ann-5, ben-5, ben-7): 31 days, 950 left; February billed
    # 1000 (ann-3): 950 / 1000 * 28 = 26.6 days; 31 + 26.6 = 57.6
    assert group["dso_countback"] == "57.60"
    # Roll rates (each month's first day to its last, docs/metrics.md):
    # February (Feb 1 -> Feb 28): ann-3 1000 current (due Feb 1), 600 open and past due on the
    #   28th: rolled; ben-2 500 in 31-60 (31 days), 58 days on the 28th: not rolled; ben-1 500
    #   in 61-90 (62 days), 89 days on the 28th: not rolled.
    # March (Mar 1 -> Mar 31): ann-5 1000 and ben-5 500 current, both open and past due on the
    #   31st: 1500 rolled; ann-3 600 in 1-30 (28 days), paid on the 15th: 0 rolled; ben-2 500
    #   in 31-60 (59 days), 89 days on the 31st: rolled; ben-1 500 in 61-90 (90 days), 450 open
    #   at 120 days: rolled. ben-7 was posted after March 1: in no start.
    # current: (600 + 1500) / (1000 + 1500) = 0.84; 1-30: 0 / 600; 31-60: 500 / (500 + 500);
    # 61-90: 450 / (500 + 500)
    assert group["roll_rates"] == {
        "current->1-30": "0.8400",
        "1-30->31-60": "0.0000",
        "31-60->61-90": "0.5000",
        "61-90->91+": "0.4500",
    }


def test_the_metrics_by_property_split_the_book_by_hand(hand_book: None, capsys: Any) -> None:
    doc = _json(
        capsys,
        "report",
        "metrics",
        "--from",
        "2026-02-01",
        "--to",
        "2026-03-31",
        "--by",
        "property",
        "--format",
        "json",
    )
    elm, oak = doc["groups"]
    assert (elm["key"], oak["key"]) == ("ELM", "OAK")
    # Ann's CEI: 1000 collected of 2000 to collect, (0 + 2000 - 1000) / (0 + 2000 - 0), 50%
    assert (elm["cei"], elm["collected"], elm["closing_receivables"]) == (
        "50.0000",
        "1000.00",
        "1000.00",
    )
    # 1000 / 2000 * 59 = 29.5; count-back: March billed 1000 covers 1000: 31 days
    assert (elm["dso_simple"], elm["dso_countback"]) == ("29.50", "31.00")
    # Ben: (1000 + 1000 - 1950) / (1000 + 1000 - 500) * 100 = 50 / 1500 * 100 = 3.3333
    assert (oak["cei"], oak["collected"], oak["closing_current"]) == ("3.3333", "0.00", "500.00")
    # 1950 / 1000 * 59 = 115.05; count-back: March 1000 (31 days, 950 left), February nothing
    # billed (28 days), January 500 (31 days, 450 left), December 500: 450/500 * 31 = 27.9;
    # 31 + 28 + 31 + 27.9 = 117.9
    assert (oak["dso_simple"], oak["dso_countback"]) == ("115.05", "117.90")
    # Ann's rolls: current (600 + 1000) / (1000 + 1000); 1-30 0 / 600; nothing older
    assert elm["roll_rates"] == {
        "current->1-30": "0.8000",
        "1-30->31-60": "0.0000",
        "31-60->61-90": None,
        "61-90->91+": None,
    }
    assert oak["roll_rates"] == {
        "current->1-30": "1.0000",
        "1-30->31-60": None,
        "31-60->61-90": "0.5000",
        "61-90->91+": "0.4500",
    }


def test_opening_and_closing_agree_with_the_aging(hand_book: None, capsys: Any) -> None:
    doc = _json(
        capsys,
        "report",
        "metrics",
        "--from",
        "2026-02-01",
        "--to",
        "2026-03-31",
        "--format",
        "json",
    )
    opening = _json(capsys, "aging", "--as-of", "2026-01-31", "--format", "json")
    closing = _json(capsys, "aging", "--as-of", "2026-03-31", "--format", "json")
    (group,) = doc["groups"]
    assert group["opening_receivables"] == opening["totals"]["balance"]
    assert group["closing_receivables"] == closing["totals"]["balance"]
    assert group["closing_current"] == closing["totals"]["current"]


def test_the_over_60_report_is_the_hand_computed_list_and_agrees_with_the_aging(
    hand_book: None, capsys: Any
) -> None:
    # when the controller's list is asked as of March 31
    doc = _json(capsys, "report", "over-60", "--as-of", "2026-03-31", "--format", "json")
    # then more than 60 days past due is what was due on or before January 29: Ben's ben-1
    # (450 open) and ben-2 (500): 950, of a balance of 1950; Ann owes nothing that old
    assert doc == {
        "as_of": "2026-03-31",
        "accounts": [
            {
                "account_id": "A-BEN",
                "property_id": "OAK",
                "over_60": "950.00",
                "balance": "1950.00",
                "last_contact": None,
                "stage": "",
            }
        ],
        "total_over_60": "950.00",
    }
    # and for every day of the period, the aging with buckets 0,60 says the same
    for day in ("2026-01-31", "2026-02-28", "2026-03-02", "2026-03-31", "2026-04-15"):
        over = _json(capsys, "report", "over-60", "--as-of", day, "--format", "json")
        aging = _json(capsys, "aging", "--as-of", day, "--buckets", "0,60", "--format", "json")
        expected = {
            a["account_id"]: (a["61+"], a["balance"])
            for a in aging["accounts"]
            if a["61+"] != "0.00"
        }
        assert {
            a["account_id"]: (a["over_60"], a["balance"]) for a in over["accounts"]
        } == expected, day
        assert over["total_over_60"] == aging["totals"]["61+"], day


def test_a_period_that_ends_before_it_starts_is_refused(hand_book: None, capsys: Any) -> None:
    code, out, err = cli(capsys, "report", "metrics", "--from", "2026-03-01", "--to", "2026-02-01")
    assert code == 2
    assert "before it starts" in err
    assert out == ""


def test_table_and_csv_print_the_same_figures(hand_book: None, capsys: Any) -> None:
    words = ("report", "metrics", "--from", "2026-02-01", "--to", "2026-03-31", "--by", "property")
    code, table, _ = cli(capsys, *words)
    assert code == 0
    assert "ELM" in table
    assert "1,000.00" in table
    assert "3.3333" in table
    code, csv_text, _ = cli(capsys, *words, "--format", "csv")
    lines = csv_text.splitlines()
    assert lines[0].startswith("from,to,currency,key,opening_receivables")
    assert lines[2].startswith("2026-02-01,2026-03-31,USD,OAK,1000.00,1000.00,0.00,1950.00")


# The cast's book (arrears.access.tests.people): A-TINA at ELM owes March's 1,200.00 (due March
# 1), A-OSCAR at OAK February's 950.00 (due February 1), referred to Hale & Co. On May 15, 2026
# both are more than 60 days past due (75 and 103 days).
CAST_DAY = "2026-05-15"


def _over_60_ids(capsys: Any, *who: str) -> list[str]:
    doc = _json(capsys, *who, "report", "over-60", "--as-of", CAST_DAY, "--format", "json")
    return [a["account_id"] for a in doc["accounts"]]


def test_each_role_reads_the_over_60_report_of_its_own_scope(people: Any, capsys: Any) -> None:
    # the coordinator, the controller and the operator: the whole book, the larger first
    assert _over_60_ids(capsys, "--as", "alice") == ["A-TINA", "A-OSCAR"]
    assert _over_60_ids(capsys, "--as", "dave") == ["A-TINA", "A-OSCAR"]
    assert _over_60_ids(capsys) == ["A-TINA", "A-OSCAR"]
    # the manager of ELM: Tina's only; the attorney: the account referred to her firm
    assert _over_60_ids(capsys, "--as", "bob") == ["A-TINA"]
    assert _over_60_ids(capsys, "--as", "carol") == ["A-OSCAR"]
    # another company's manager: nothing, and a total of nothing
    doc = _json(
        capsys, "--as", "mallory", "report", "over-60", "--as-of", CAST_DAY, "--format", "json"
    )
    assert doc == {"as_of": CAST_DAY, "accounts": [], "total_over_60": "0.00"}


def test_each_role_reads_the_metrics_of_its_own_groups(people: Any, capsys: Any) -> None:
    words = (
        "report",
        "metrics",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-31",
        "--by",
        "property",
        "--format",
        "json",
    )
    keys = {
        who: [g["key"] for g in _json(capsys, "--as", who, *words)["groups"]]
        for who in ("alice", "bob", "carol", "mallory")
    }
    # each group is a property the user may see an account of
    assert keys == {"alice": ["ELM", "OAK"], "bob": ["ELM"], "carol": ["OAK"], "mallory": []}
    # and the manager's ELM is the whole book's ELM: Tina's 1,200.00 billed in March
    elm = _json(capsys, "--as", "bob", *words)["groups"][0]
    assert (elm["billed"], elm["closing_receivables"]) == ("1200.00", "1200.00")


def test_the_metrics_by_coordinator_follow_the_assignments(people: Any, capsys: Any) -> None:
    from arrears.access.assignments import Target, assignment_set

    # given Alice assigned Elm Court from March 1; Oak Terrace assigned to no one
    assignment_set(
        username="alice", target=Target("property", "ELM"), on=date(2026, 3, 1), actor="erin"
    )
    doc = _json(
        capsys,
        "report",
        "metrics",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-31",
        "--by",
        "coordinator",
        "--format",
        "json",
    )
    # then Tina's account is Alice's group, Oscar's the group of no one ("")
    groups = {g["key"]: g["closing_receivables"] for g in doc["groups"]}
    assert groups == {"": "950.00", "alice": "1200.00"}


def test_the_api_gives_the_commands_json_within_the_callers_scope(
    tokens: dict[str, str], capsys: Any
) -> None:
    from django.test import Client

    query = "from=2026-03-01&to=2026-03-31&by=property"
    expected = _json(
        capsys,
        "--as",
        "bob",
        "report",
        "metrics",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-31",
        "--by",
        "property",
        "--format",
        "json",
    )
    bob = Client(HTTP_AUTHORIZATION=f"Bearer {tokens['bob']}")
    response = bob.get(f"/api/reports/metrics?{query}")
    assert response.status_code == 200
    assert response.json() == expected
    over = _json(
        capsys, "--as", "carol", "report", "over-60", "--as-of", CAST_DAY, "--format", "json"
    )
    carol = Client(HTTP_AUTHORIZATION=f"Bearer {tokens['carol']}")
    response = carol.get(f"/api/reports/over-60?as_of={CAST_DAY}")
    assert response.status_code == 200
    assert response.json() == over
    assert [a["account_id"] for a in over["accounts"]] == ["A-OSCAR"]
    # and no one signed in reads nothing
    assert Client().get(f"/api/reports/over-60?as_of={CAST_DAY}").status_code == 401


def test_a_book_in_two_currencies_gives_one_metrics_object_each_and_over_60_asks_for_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    # given the hand book and Eva's account in euros at Elm Court: 300.00 due December 1
    monkeypatch.setenv("ARREARS_TODAY", "2026-04-15")
    book = {key: list(rows) for key, rows in HAND_BOOK.items()}
    book["parties"].append(
        {"party_id": "P-EVA", "name": "Eva Roth", "state": "NY", "country": "US"}
    )
    book["accounts"].append(
        {
            "account_id": "A-EVA",
            "property_id": "ELM",
            "kind": "residential_lease",
            "opened": "2025-11-01",
            "currency": "EUR",
        }
    )
    book["account_parties"].append({"account_id": "A-EVA", "party_id": "P-EVA", "role": "primary"})
    book["transactions"].append(
        {**_txn("eva-1", "2025-12-01", "charge", "300.00"), "account_id": "A-EVA"}
    )
    book_import(write_book(tmp_path / "two", book))
    # when the metrics are asked
    docs = _json(
        capsys,
        "report",
        "metrics",
        "--from",
        "2026-02-01",
        "--to",
        "2026-03-31",
        "--format",
        "json",
    )
    # then there is one object per currency, never a sum of euros and dollars
    assert [(d["currency"], d["groups"][0]["closing_receivables"]) for d in docs] == [
        ("EUR", "300.00"),
        ("USD", "2950.00"),
    ]
    # and the over-60 list, which has no currency field, asks which
    code, _out, err = cli(capsys, "report", "over-60", "--as-of", "2026-03-31", "--format", "json")
    assert code == 2
    assert "EUR, USD" in err
    eur = _json(
        capsys,
        "report",
        "over-60",
        "--as-of",
        "2026-03-31",
        "--currency",
        "EUR",
        "--format",
        "json",
    )
    assert (eur["total_over_60"], [a["account_id"] for a in eur["accounts"]]) == (
        "300.00",
        ["A-EVA"],
    )


def test_the_over_60_report_shows_the_last_contact_and_stage_as_of_its_day(
    people: Any, capsys: Any
) -> None:
    from arrears.dunning.models import Action

    # given the day's run on March 26 (the cast's today), which takes the policy's steps
    code, _, err = cli(capsys, "run")
    assert code == 0, err
    taken = (
        Action.objects.filter(account__account_id="A-TINA", run_on__lte=date(2026, 3, 26))
        .exclude(status="refused")
        .order_by("-run_on", "-id")
        .first()
    )
    assert taken is not None
    # when the list is read as of May 15
    doc = _json(capsys, "report", "over-60", "--as-of", CAST_DAY, "--format", "json")
    tina = next(a for a in doc["accounts"] if a["account_id"] == "A-TINA")
    # then Tina's stage is the step last taken
    assert tina["stage"] == taken.step
    # and its last contact is the worklist's reckoning of it, on or before that day
    from arrears.dunning.standing import stages_on
    from arrears.dunning.worklist_detail import last_contacts

    pk = taken.account_id
    contact = last_contacts([pk], until=date(2026, 5, 15)).get(pk)
    assert tina["last_contact"] == (contact[0].isoformat() if contact else None)
    # and as of the day before the run, there was no step yet and no contact
    assert stages_on([pk], date(2026, 3, 25)) == {pk: ""}
    assert last_contacts([pk], until=date(2026, 3, 25)) == {}
