"""The monthly collection goals (arrears.access.acts_goals) and the reports that read them,
`forecast` and `weekly` (arrears.reports.forecast), through `acts_reports.report_read`, on a
book whose figures are worked by hand below (docs/metrics.md, "Forecast vs actual").

The cast's book, as of 2026-03-26 (March has 31 days):
- Elm Court (ELM, portfolio EAST): Tina (A-TINA) paid February's 1,200.00 on Feb 5; of March's
  1,200.00 she paid 500.00 on Mar 3, 200.00 on Mar 10 (reversed on Mar 12: the check bounced)
  and 300.00 on Mar 20. Vera (A-VERA) owes March's 800.00. Collected in March: 500 + 200 − 200
  + 300 = 800.00. Past due on the 26th: Tina 1,200 − 500 − 300 = 400.00, Vera 800.00.
- Oak Terrace (OAK, portfolio WEST): Oscar (A-OSCAR) owes February's and March's 950.00 and paid
  400.00 on Mar 15 (to February's rent, 42 days after it fell due). Past due: 1,500.00.
"""

from __future__ import annotations

import copy
import io
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from arrears.access.acting import By
from arrears.access.acts_goals import goal_import, goal_list, goal_propose, goal_set
from arrears.access.acts_reports import report_read
from arrears.access.errors import ForbiddenError
from arrears.access.models import AuditEntry
from arrears.access.services import SystemActor
from arrears.access.tests.people import BOOK, TODAY, write_book
from arrears.ledger.interchange.errors import BookImportError
from arrears.ledger.services import book_import
from arrears.reports.goals import Candidate, Month, closers, pace, weeks
from arrears.reports.models import CollectionGoal
from arrears.reports.render import write_table

pytestmark = pytest.mark.django_db

MARCH = date(2026, 3, 1)
OPERATOR = By(SystemActor("pytest"), "system")


def _txn(txn_id: str, account: str, posted: str, type_: str, amount: str, **more: str) -> dict:
    row = {"txn_id": txn_id, "account_id": account, "posted": posted, "type": type_}
    row |= {"amount": amount, "code": "", "due": "", "reverses": more.get("reverses", "")}
    if type_ == "charge":
        row |= {"code": "RENT", "due": posted}
    return row


def _goal_book() -> dict[str, list[dict[str, str]]]:
    book = copy.deepcopy(BOOK)
    for prop in book["properties"]:
        prop["portfolio"] = {"ELM": "EAST", "OAK": "WEST"}.get(prop["property_id"], "OTHERS")
    book["parties"].append(
        {"party_id": "P-VERA", "name": "Vera Lin", "state": "NY", "country": "US"}
    )
    book["accounts"].append(
        {
            "account_id": "A-VERA",
            "property_id": "ELM",
            "unit": "4A",
            "kind": "residential_lease",
            "opened": "2025-06-01",
            "rent": "800.00",
        }
    )
    book["account_parties"].append(
        {"account_id": "A-VERA", "party_id": "P-VERA", "role": "primary"}
    )
    book["transactions"] = [
        _txn("T-TINA-02", "A-TINA", "2026-02-01", "charge", "1200.00"),
        _txn("T-OSCAR-02", "A-OSCAR", "2026-02-01", "charge", "950.00"),
        _txn("P-TINA-0205", "A-TINA", "2026-02-05", "payment", "1200.00"),
        _txn("T-TINA-03", "A-TINA", "2026-03-01", "charge", "1200.00"),
        _txn("T-OSCAR-03", "A-OSCAR", "2026-03-01", "charge", "950.00"),
        _txn("T-VERA-03", "A-VERA", "2026-03-01", "charge", "800.00"),
        _txn("P-TINA-0303", "A-TINA", "2026-03-03", "payment", "500.00"),
        _txn("P-TINA-0310", "A-TINA", "2026-03-10", "payment", "200.00"),
        _txn("R-TINA-0312", "A-TINA", "2026-03-12", "reversal", "200.00", reverses="P-TINA-0310"),
        _txn("P-OSCAR-0315", "A-OSCAR", "2026-03-15", "payment", "400.00"),
        _txn("P-TINA-0320", "A-TINA", "2026-03-20", "payment", "300.00"),
    ]
    return book


@pytest.fixture
def book(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The cast's book with the payments above (overrides `people`'s)."""
    monkeypatch.setenv("ARREARS_TODAY", TODAY.isoformat())
    folder = write_book(tmp_path / "book", _goal_book())
    book_import(folder)
    return folder


def _goals(people: dict[str, Any]) -> None:
    alice = By(people["alice"], "system")
    goal_set(by=alice, month=MARCH, kind="property", key="ELM", amount="2000.00")
    goal_set(by=alice, month=MARCH, kind="property", key="OAK", amount="1000.00")


def test_the_pace_and_the_weeks_of_a_month_are_the_hand_computed_figures() -> None:
    # 2000.00 over March's 31 days, as of the 26th: 2000 × 26 / 31 = 1677.419… → 1677.42
    assert pace(200000, date(2026, 3, 26)) == 167742
    # the whole month on its last day, nothing before it starts
    assert pace(200000, date(2026, 3, 31)) == 200000
    # 1-7, 8-14, 15-21, 22-28, 29-31; a February of 28 days has four
    assert [(w.first.day, w.last.day) for w in weeks(Month(MARCH))] == [
        (1, 7),
        (8, 14),
        (15, 21),
        (22, 28),
        (29, 31),
    ]
    assert len(weeks(Month(date(2026, 2, 1)))) == 4


def test_the_accounts_that_close_a_gap_are_taken_in_the_worklists_order() -> None:
    # expected recovery: 400 × 0.83 = 332; 800 × 0.05 = 40; 1500 × 0.05 = 75
    found = closers(
        [
            Candidate("A-VERA", 80000, Decimal("0.05")),
            Candidate("A-TINA", 40000, Decimal("0.83")),
            Candidate("A-OSCAR", 150000, Decimal("0.05")),
        ],
        gap=50000,
    )
    # Tina first (332), then Oscar (75): 400 + 1500 = 1900 ≥ 500, two accounts
    assert [c.candidate.account_id for c in found.listed] == ["A-TINA", "A-OSCAR"]
    assert (found.needed, found.covered) == (2, 190000)
    # a gap larger than all they owe: every one listed, needed unknown
    every = closers([Candidate("A-TINA", 40000, Decimal("0.83"))], gap=50000)
    assert (every.needed, every.covered) == (None, 40000)


def test_the_forecast_of_each_propertys_goal_is_the_hand_computed_figures(
    people: dict[str, Any],
) -> None:
    # given March's goals of 2,000.00 for ELM and 1,000.00 for OAK
    _goals(people)
    # when the coordinator reads the forecast as of March 26 by property
    doc = report_read(actor=people["alice"], name="forecast", as_of=TODAY, by="property")
    data = doc.data
    assert (data["month"], data["days_elapsed"], data["days_in_month"]) == ("2026-03", 26, 31)
    elm, oak = data["goals"]
    assert (elm["key"], elm["currency"], elm["goal"], elm["source"]) == (
        "ELM",
        "USD",
        "2000.00",
        "entered",
    )
    # collected: 500 + 200 − 200 (the reversal) + 300 = 800
    assert elm["collected"] == "800.00"
    # pace 2000 × 26/31 = 1677.42; 800 − 1677.42 = −877.42: behind; gap 2000 − 800 = 1200
    assert (elm["pace"], elm["status"], elm["difference"], elm["gap"]) == (
        "1677.42",
        "behind",
        "-877.42",
        "1200.00",
    )
    # Tina: of 2,400 due in the last 12 months, 1,200 + 500 + 300 = 2,000 paid within 30 days
    # (the 200 reversed is no payment): 0.83; 400 × 0.83 = 332.00. Vera: nothing paid: 0.05
    # (the worklist's floor), 800 × 0.05 = 40.00. Tina's 400 leaves 800; with Vera's, 1200.
    assert elm["closers"] == [
        {
            "rank": 1,
            "account_id": "A-TINA",
            "past_due": "400.00",
            "likelihood": "0.83",
            "expected_recovery": "332.00",
            "cumulative": "400.00",
        },
        {
            "rank": 2,
            "account_id": "A-VERA",
            "past_due": "800.00",
            "likelihood": "0.05",
            "expected_recovery": "40.00",
            "cumulative": "1200.00",
        },
    ]
    assert (elm["closers_needed"], elm["closers_cover"]) == (2, "1200.00")
    # the weeks: collected to each week's end, and the pace there (2000 × 7/31 = 451.61, × 14/31
    # = 903.23, × 21/31 = 1354.84, × 28/31 = 1806.45, 2000); the last week has not begun
    assert [(w["collected"], w["pace"]) for w in elm["weeks"]] == [
        ("500.00", "451.61"),
        ("500.00", "903.23"),
        ("800.00", "1354.84"),
        ("800.00", "1806.45"),
        (None, "2000.00"),
    ]
    # OAK: 400 collected; pace 1000 × 26/31 = 838.71; gap 600, closed by Oscar's 1,500 alone
    # (his 400 went to February's rent 42 days late: likelihood 0.05)
    assert (oak["collected"], oak["pace"], oak["gap"], oak["closers_needed"]) == (
        "400.00",
        "838.71",
        "600.00",
        1,
    )
    # and the document draws it: a table of the goals, each gap's accounts, a chart each
    assert len(doc.charts) == 2
    assert doc.charts[0].series[0].values[:4] == (
        Decimal("500.00"),
        Decimal("500.00"),
        Decimal("800.00"),
        Decimal("800.00"),
    )
    out = io.StringIO()
    write_table(doc, out)
    assert "1677.42" in out.getvalue()


def test_a_portfolios_and_the_books_goals_are_measured_on_all_their_accounts(
    people: dict[str, Any],
) -> None:
    alice = By(people["alice"], "system")
    goal_set(by=alice, month=MARCH, kind="portfolio", key="EAST", amount="1500.00")
    goal_set(by=alice, month=MARCH, kind="book", key="", amount="3000.00")
    (east,) = report_read(actor=people["alice"], name="forecast", as_of=TODAY, by="portfolio").data[
        "goals"
    ]
    # EAST is ELM alone: 800 collected, gap 700
    assert (east["collected"], east["gap"]) == ("800.00", "700.00")
    (whole,) = report_read(actor=people["alice"], name="forecast", as_of=TODAY).data["goals"]
    # the book: 800 + 400 = 1200; pace 3000 × 26/31 = 2516.13
    assert (whole["key"], whole["collected"], whole["pace"]) == ("", "1200.00", "2516.13")


def test_the_weekly_report_sets_the_weeks_metrics_beside_the_months_goal(
    people: dict[str, Any],
) -> None:
    _goals(people)
    doc = report_read(actor=people["dave"], name="weekly", as_of=TODAY, by="property")
    assert (doc.data["from"], doc.data["to"]) == ("2026-03-20", "2026-03-26")
    rows = {r["key"]: r for r in doc.data["groups"]}
    # ELM's week: Tina's 300 on the 20th; nothing billed; the month: 800 against 1677.42
    elm = rows["ELM"]
    assert (elm["collected"], elm["billed"], elm["goal"], elm["collected_month"]) == (
        "300.00",
        "0.00",
        "2000.00",
        "800.00",
    )
    assert (elm["pace"], elm["status"], elm["gap"]) == ("1677.42", "behind", "1200.00")
    # OAK's week: nothing collected (Oscar paid on the 15th)
    assert (rows["OAK"]["collected"], rows["OAK"]["collected_month"]) == ("0.00", "400.00")


def test_a_manager_sets_and_reads_only_their_properties_goals(people: dict[str, Any]) -> None:
    _goals(people)
    bob = By(people["bob"], "web")
    # Bob manages ELM: he changes its goal, and its audit row keeps what it was
    goal_set(by=bob, month=MARCH, kind="property", key="ELM", amount="1800.00")
    row = AuditEntry.objects.filter(verb="goal.set").latest("id")
    assert (row.username, row.detail["amount"], row.detail["was"]) == ("bob", "1800.00", "2000.00")
    # but not OAK's, nor the portfolio WEST's, nor the book's
    for kind, key in (("property", "OAK"), ("portfolio", "WEST"), ("book", "")):
        with pytest.raises(ForbiddenError):
            goal_set(by=bob, month=MARCH, kind=kind, key=key, amount="10.00")
    # he may set EAST's (all of it is ELM)
    goal_set(by=bob, month=MARCH, kind="portfolio", key="EAST", amount="1000.00")
    assert [g.scope_key for g in goal_list(by=bob, month=MARCH)] == ["EAST", "ELM"]
    # and the forecast shows him ELM's goal alone
    doc = report_read(actor=people["bob"], name="forecast", as_of=TODAY, by="property")
    assert [g["key"] for g in doc.data["goals"]] == ["ELM"]
    # carol (an attorney, A-OSCAR referred to her firm) reads OAK's in the forecast, as every
    # account of OAK is hers to read, and not ELM's; she may not list goals
    carol_doc = report_read(actor=people["carol"], name="forecast", as_of=TODAY, by="property")
    assert [g["key"] for g in carol_doc.data["goals"]] == ["OAK"]
    with pytest.raises(ForbiddenError):
        goal_list(by=By(people["carol"], "web"), month=MARCH)
    # mallory's building has no account: no goal of A's is hers
    assert report_read(actor=people["mallory"], name="forecast", as_of=TODAY).data["goals"] == []


CSV_GOOD = "month,scope,key,amount\n2026-03,property,ELM,2100.00\n2026-03,portfolio,WEST,900\n"


def test_a_goals_csv_sets_every_goal_or_none(people: dict[str, Any]) -> None:
    _goals(people)
    dave = By(people["dave"], "cli")
    # a file with mistakes on three lines: nothing is set, and each is named
    bad = (
        "month,scope,key,amount,currency\n"
        "2026-03,property,ELM,2100.00,\n"
        "2026-13,property,OAK,10,\n"
        "2026-03,building,OAK,10,\n"
        "2026-03,property,NOPE,10.001,\n"
        "2026-03,property,NOPE,10,\n"
        "2026-03,property,ELM,5,USD\n"
    )
    with pytest.raises(BookImportError) as refused:
        goal_import(by=dave, text=bad, name="march.csv")
    problems = [(p["file"], p["line"], p["column"]) for p in refused.value.extra["problems"]]
    assert problems == [
        ("march.csv", 3, "month"),
        ("march.csv", 4, "scope"),
        ("march.csv", 5, "amount"),
        ("march.csv", 6, "key"),
        ("march.csv", 7, "key"),
    ]
    assert "Nothing was imported" in refused.value.message
    assert CollectionGoal.objects.get(scope_key="ELM").amount == Decimal("2000.00")
    assert not AuditEntry.objects.filter(verb="goal.import").exists()
    # a good one sets them all, imported, and its audit row keeps what each was
    done = goal_import(by=dave, text=CSV_GOOD, name="march.csv")
    assert [(g.scope_key, g.amount, g.source) for g in done] == [
        ("ELM", Decimal("2100.00"), "imported"),
        ("WEST", Decimal("900.00"), "imported"),
    ]
    row = AuditEntry.objects.get(verb="goal.import")
    assert [(g["key"], g["was"]) for g in row.detail["goals"]] == [
        ("ELM", "2000.00"),
        ("WEST", None),
    ]
    # a bad header is line 1
    with pytest.raises(BookImportError) as header:
        goal_import(by=dave, text="month,key,amount\n", name="h.csv")
    assert header.value.extra["problems"][0]["line"] == 1


def test_a_managers_csv_with_another_property_is_refused_whole(people: dict[str, Any]) -> None:
    with pytest.raises(BookImportError) as refused:
        goal_import(by=By(people["bob"], "web"), text=CSV_GOOD, name="bob.csv")
    (problem,) = refused.value.extra["problems"]
    assert (problem["line"], problem["column"]) == (3, "key")
    assert not CollectionGoal.objects.exists()


def test_goals_proposed_are_the_collection_rate_times_the_charges_due(
    people: dict[str, Any],
) -> None:
    # the 12 full months before March 2026: March 2025 to February 2026. ELM: 1,200 due (Feb),
    # 1,200 collected: rate 1.0000; due in March 1,200 + 800 = 2,000: 2,000.00. OAK: 950 due,
    # nothing collected in them: rate 0.0000, proposed 0.00 (not set)
    made = goal_propose(by=OPERATOR, month=MARCH, kind="property")
    found = {p.key: p.as_json() for p in made}
    assert found["ELM"]["rate"] == "1.0000"
    assert (found["ELM"]["due_month"], found["ELM"]["base"], found["ELM"]["amount"]) == (
        "2000.00",
        "month",
        "2000.00",
    )
    assert (found["OAK"]["rate"], found["OAK"]["amount"]) == ("0.0000", "0.00")
    assert found["ELM"]["window"] == ["2025-03", "2026-02"]
    assert not CollectionGoal.objects.exists()  # a proposal alone sets nothing
    # April's charges are not in the book: the base is February's (the window's last) 1,200
    april = {p.key: p for p in goal_propose(by=OPERATOR, month=date(2026, 4, 1), kind="property")}
    assert (april["ELM"].base, april["ELM"].amount) == ("last_month", 120000)
    # applied, ELM's is set (source proposed); OAK's zero is not
    goal_propose(by=By(people["alice"], "cli"), month=MARCH, kind="property", apply=True)
    assert [(g.scope_key, g.amount, g.source) for g in CollectionGoal.objects.all()] == [
        ("ELM", Decimal("2000.00"), "proposed")
    ]


def test_the_database_refuses_a_goal_not_on_a_months_first_day_or_of_nothing() -> None:
    from django.db import IntegrityError, transaction
    from django.utils import timezone

    row = {"scope_kind": "property", "scope_key": "ELM", "currency": "USD", "source": "entered"}
    row |= {"set_by": "alice", "set_at": timezone.now()}
    for month, amount in ((date(2026, 3, 2), "10.00"), (MARCH, "0.00")):
        with pytest.raises(IntegrityError), transaction.atomic():
            CollectionGoal.objects.create(month=month, amount=Decimal(amount), **row)
    with pytest.raises(IntegrityError), transaction.atomic():
        CollectionGoal.objects.create(
            month=MARCH, amount=Decimal("1.00"), **{**row, "scope_key": ""}
        )
