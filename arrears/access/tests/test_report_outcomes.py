"""The outcome reports (arrears.reports.outcomes: payment-speed, recovery, promises, disputes)
read through `acts_reports.report_read`, against a small book computed by hand.

The book (January to April 2026, read as of April 30), on the cast's buildings:
- A-TINA (Elm Court, NY, residential: policy ny-residential), rent 1,200.00:
  t-jan due Jan 1 paid Jan 3; t-feb due Feb 1 paid Feb 20; T-TINA-03 due Mar 1 unpaid;
  t-apr due Apr 1 paid Apr 4.
- A-SHOP (Elm Court, NY, commercial: no policy matches it): s-jan 2,000.00 due Jan 15 paid
  Jan 20; s-late 300.00 due Feb 1 but booked (and paid) only on Mar 10.
- A-OSCAR (Oak Terrace, CA, residential: ca-residential), rent 950.00: T-OSCAR-02 due Feb 1,
  500.00 paid Feb 3; o-mar due Mar 1 paid Mar 4; o-apr due Apr 1. Referred to Hale & Co (25%)
  on Mar 26 with 450.00 owed (the cast); 200.00 paid Apr 10, 100.00 paid Apr 12 and returned
  Apr 14; 1,000.00 written off Apr 20; 500.00 paid Apr 25 (300.00 of it a recovery after the
  write-off: a WOR charge); 50.00 paid May 5, after the period.
- A-TINA is also referred to Elm Legal (20%) on Mar 15 with 1,200.00 owed; a settlement of
  1,000.00 due Apr 15 is approved, paid on Apr 10, and forgives the other 200.00 on Apr 15.
Elm Court is Alice's from January 1 (so Oak Terrace's account has no coordinator); Elm Court is
in the portfolio NYC, Oak Terrace in none.
"""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest

from arrears.access.acts_reports import report_read
from arrears.access.assignments import Target, assignment_set
from arrears.access.services import SystemActor
from arrears.access.tests.people import BOOK, write_book
from arrears.disputes.models import Dispute
from arrears.ledger.models import Account
from arrears.ledger.services import book_import
from arrears.legal.models import Referral
from arrears.legal.schedule import Due
from arrears.legal.selectors import recovered_between
from arrears.legal.services import firm_add, referral_make
from arrears.legal.settlements import (
    money_review,
    settlement_decide,
    settlement_offer,
    writeoff_post,
)
from arrears.plans.models import Plan, Promise
from arrears.reports.render import write_table

pytestmark = pytest.mark.django_db

OPERATOR = SystemActor("root")
FIRST, LAST = date(2026, 1, 1), date(2026, 4, 30)


def _txn(txn_id: str, account: str, posted: str, type_: str, amount: str, **more: str) -> dict:
    row = {"txn_id": txn_id, "account_id": account, "posted": posted, "type": type_}
    row |= {"amount": amount, "code": "", "due": "", "applies_to": "", "reverses": ""}
    if type_ == "charge":
        row |= {"code": more.get("code", "RENT"), "due": more.get("due", posted)}
    return row | {k: v for k, v in more.items() if k in ("applies_to", "reverses")}


OUTCOMES_BOOK = copy.deepcopy(BOOK)
OUTCOMES_BOOK["properties"][0]["portfolio"] = "NYC"
OUTCOMES_BOOK["parties"].append({"party_id": "P-SHOP", "name": "Shop LLC", "country": "US"})
OUTCOMES_BOOK["accounts"].append(
    {
        "account_id": "A-SHOP",
        "property_id": "ELM",
        "unit": "G1",
        "kind": "commercial_lease",
        "opened": "2025-01-01",
    }
)
OUTCOMES_BOOK["account_parties"].append(
    {"account_id": "A-SHOP", "party_id": "P-SHOP", "role": "primary"}
)
OUTCOMES_BOOK["transactions"] += [
    _txn("t-jan", "A-TINA", "2026-01-01", "charge", "1200.00"),
    _txn("t-jan-p", "A-TINA", "2026-01-03", "payment", "1200.00", applies_to="t-jan"),
    _txn("t-feb", "A-TINA", "2026-02-01", "charge", "1200.00"),
    _txn("t-feb-p", "A-TINA", "2026-02-20", "payment", "1200.00", applies_to="t-feb"),
    _txn("t-apr", "A-TINA", "2026-04-01", "charge", "1200.00"),
    _txn("t-apr-p", "A-TINA", "2026-04-04", "payment", "1200.00", applies_to="t-apr"),
    _txn("s-jan", "A-SHOP", "2026-01-01", "charge", "2000.00", due="2026-01-15"),
    _txn("s-jan-p", "A-SHOP", "2026-01-20", "payment", "2000.00", applies_to="s-jan"),
    _txn("s-late", "A-SHOP", "2026-03-10", "charge", "300.00", code="LATE", due="2026-02-01"),
    _txn("s-late-p", "A-SHOP", "2026-03-10", "payment", "300.00", applies_to="s-late"),
    _txn("o-p1", "A-OSCAR", "2026-02-03", "payment", "500.00", applies_to="T-OSCAR-02"),
    _txn("o-mar", "A-OSCAR", "2026-03-01", "charge", "950.00"),
    _txn("o-mar-p", "A-OSCAR", "2026-03-04", "payment", "950.00", applies_to="o-mar"),
    _txn("o-apr", "A-OSCAR", "2026-04-01", "charge", "950.00"),
    _txn("o-p3", "A-OSCAR", "2026-04-10", "payment", "200.00"),
    _txn("o-p4", "A-OSCAR", "2026-04-12", "payment", "100.00"),
    _txn("o-p4-r", "A-OSCAR", "2026-04-14", "reversal", "100.00", reverses="o-p4"),
]
LATER = {
    "transactions": [
        _txn("t-set-p", "A-TINA", "2026-04-10", "payment", "1000.00"),
        _txn("o-p6", "A-OSCAR", "2026-04-25", "payment", "500.00"),
        _txn("o-p5", "A-OSCAR", "2026-05-05", "payment", "50.00"),
    ]
}


@pytest.fixture
def book(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The cast's book with the story above (the cast's `people` fixture imports this one)."""
    monkeypatch.setenv("ARREARS_TODAY", "2026-05-15")
    folder = write_book(tmp_path / "book", OUTCOMES_BOOK)
    book_import(folder)
    return folder


def _pk(account_id: str) -> int:
    return Account.objects.get(account_id=account_id).pk


@pytest.fixture
def story(people: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    assignment_set(
        username="alice", target=Target("property", "ELM"), on=date(2026, 1, 1), actor="erin"
    )
    # Tina's case and its settlement, offered and approved before the payment that pays it
    firm_add(name="Elm Legal", contingency_percent=Decimal("20"), on=date(2026, 3, 1))
    case = referral_make(
        account=Account.objects.get(account_id="A-TINA"),
        firm="Elm Legal",
        on=date(2026, 3, 15),
        actor="alice",
    )
    offered = settlement_offer(
        case=case,
        amount=Decimal("1000.00"),
        installments=[Due(date(2026, 4, 15), Decimal("1000.00"))],
        actor="alice",
        today=date(2026, 3, 15),
    )
    settlement_decide(settlement_id=offered.pk, approve=True, actor="dave", today=date(2026, 3, 15))
    # the write-off, then the payments after it: 500.00 on Apr 25 pays o-apr's last 200.00
    # and leaves 300.00 of credit, which the review turns into a recovery (a WOR charge)
    writeoff_post(
        account_id="A-OSCAR",
        amount=Decimal("1000.00"),
        reason="gone",
        on=date(2026, 4, 20),
        actor="dave",
        today=date(2026, 4, 20),
    )
    book_import(write_book(tmp_path / "later", LATER))
    money_review(on=date(2026, 4, 15), actor="cycle", account_pks=[_pk("A-TINA")])
    money_review(on=date(2026, 4, 25), actor="cycle", account_pks=[_pk("A-OSCAR")])
    _promises_and_plans()
    _disputes()
    return people


def _promises_and_plans() -> None:
    # Written as the daily settlement leaves them (plans.settlement is tested on its own): the
    # report reads their status and the day each was settled or ended.
    tina, shop, oscar = _pk("A-TINA"), _pk("A-SHOP"), _pk("A-OSCAR")
    for account, made, status, settled in (
        (tina, "2025-12-15", "kept", "2025-12-20"),  # before the period: not counted
        (tina, "2026-01-05", "kept", "2026-01-10"),
        (tina, "2026-02-05", "broken", "2026-02-15"),
        (tina, "2026-03-01", "kept", "2026-03-05"),
        (oscar, "2026-03-10", "broken", "2026-03-20"),
        (oscar, "2026-04-01", "kept", "2026-04-10"),
        (shop, "2026-04-20", "open", None),  # not settled: not counted
        (shop, "2026-04-28", "kept", "2026-05-03"),  # after the period: not counted
    ):
        Promise.objects.create(
            account_id=account,
            amount=Decimal("100.00"),
            promised_on=date.fromisoformat(made),
            made_on=date.fromisoformat(made),
            made_by="alice",
            status=status,
            settled_on=date.fromisoformat(settled) if settled else None,
        )
    for account, status, ended in (
        (tina, "completed", "2026-03-31"),
        (shop, "broken", "2026-02-10"),
        (oscar, "cancelled", "2026-03-01"),  # neither kept nor broken: not counted
        (oscar, "broken", "2026-04-15"),
    ):
        Plan.objects.create(
            account_id=account,
            amount=Decimal("600.00"),
            frequency="monthly",
            start_on=date(2026, 1, 1),
            made_on=date(2026, 1, 1),
            grace_days=5,
            require_current=False,
            created_by="alice",
            status=status,
            ended_on=date.fromisoformat(ended),
        )


def _disputes() -> None:
    # As disputes.services leaves them once resolved (a resolution's credits are left out: the
    # report reads the outcome and the two days, and the other reports' figures stay simple).
    tina, shop, oscar = _pk("A-TINA"), _pk("A-SHOP"), _pk("A-OSCAR")
    for account, opened, outcome, resolved in (
        (shop, "2025-12-28", "upheld", "2026-01-02"),  # opened before the period
        (shop, "2026-01-12", "upheld", "2026-01-15"),  # 3 days
        (oscar, "2026-02-10", "partial", "2026-03-02"),  # 20 days
        (tina, "2026-03-05", "rejected", "2026-03-19"),  # 14 days
        (tina, "2026-04-20", "upheld", "2026-05-02"),  # resolved after the period: open
    ):
        Dispute.objects.create(
            account_id=account,
            whole_balance=True,
            amount=Decimal("100.00"),
            reason="wrong",
            opened_on=date.fromisoformat(opened),
            opened_by="alice",
            status="resolved",
            outcome=outcome,
            resolved_on=date.fromisoformat(resolved),
        )


def _read(name: str, by: str | None = None, actor: Any = OPERATOR) -> Any:
    return report_read(actor=actor, name=name, as_of=LAST, date_from=FIRST, by=by)


def _groups(name: str, by: str | None = None, actor: Any = OPERATOR) -> dict[str, dict]:
    return {g["key"]: g for g in _read(name, by, actor).data["groups"]}


# -- payment speed ----------------------------------------------------------------------------


@pytest.mark.usefixtures("story")
def test_payment_speed_by_property_is_the_hand_counted_shares() -> None:
    doc = _read("payment-speed", "property")
    assert list(doc.data) == ["from", "to", "currency", "groups"]
    assert (doc.data["from"], doc.data["to"], doc.data["currency"]) == (
        "2026-01-01",
        "2026-04-30",
        "USD",
    )
    groups = {g["key"]: g for g in doc.data["groups"]}
    assert list(groups) == ["ELM", "OAK"]
    # ELM: t-jan, t-feb, T-TINA-03, t-apr (1,200.00 each), s-jan 2,000.00, s-late 300.00:
    #   6 charges, 7,100.00 due.
    # 5 days (every window ended by Apr 30): paid t-jan (Jan 3 <= Jan 6), t-apr (Apr 4 <= Apr 6),
    #   s-jan (Jan 20 <= Jan 20, the last day counts): 3 of 6 = 0.5000; 4,400.00 of 7,100.00 =
    #   0.61971 -> 0.6197. s-late was paid the day it was booked, Mar 10: after Feb 6, not in 5.
    # 30 days: t-apr's window ends May 1, after the period: 5 measured, 5,900.00; paid t-jan,
    #   t-feb (Feb 20 <= Mar 3), s-jan: 3 of 5 = 0.6000; 4,400.00 / 5,900.00 = 0.74576 -> 0.7458.
    assert groups["ELM"] == {
        "key": "ELM",
        "charges": 6,
        "amount": "7100.00",
        "measured_5": 6,
        "measured_5_amount": "7100.00",
        "paid_5": 3,
        "paid_5_amount": "4400.00",
        "share_5": "0.5000",
        "share_5_amount": "0.6197",
        "measured_30": 5,
        "measured_30_amount": "5900.00",
        "paid_30": 3,
        "paid_30_amount": "4400.00",
        "share_30": "0.6000",
        "share_30_amount": "0.7458",
    }
    # OAK: T-OSCAR-02 (450.00 still open on Mar 3), o-mar (paid Mar 4), o-apr (open Apr 6; its
    #   30 days end May 1): 3 charges, 2,850.00; the WOR charge of the recovery is not a bill.
    # 5 days: 1 of 3, 950.00 of 2,850.00 = 0.3333; 30 days: 1 of 2, 950.00 of 1,900.00 = 0.5
    oak = groups["OAK"]
    assert (oak["charges"], oak["amount"]) == (3, "2850.00")
    assert (oak["share_5"], oak["share_5_amount"]) == ("0.3333", "0.3333")
    assert (oak["measured_30"], oak["share_30"], oak["share_30_amount"]) == (2, "0.5000", "0.5000")


@pytest.mark.usefixtures("story")
def test_payment_speed_by_month_has_every_month_and_a_null_share_with_nothing_measured() -> None:
    groups = _groups("payment-speed", "month")
    assert list(groups) == ["2026-01", "2026-02", "2026-03", "2026-04"]
    shares = {
        k: (g["charges"], g["share_5"], g["share_5_amount"], g["share_30"], g["share_30_amount"])
        for k, g in groups.items()
    }
    # January: t-jan and s-jan, both paid within 5 days.
    # February: t-feb (paid day 19), s-late (booked Mar 10), T-OSCAR-02 (part paid): none in 5;
    #   in 30, t-feb: 1 of 3, 1,200.00 of 2,450.00 = 0.48979 -> 0.4898.
    # March: T-TINA-03 unpaid, o-mar paid day 3: 1 of 2; 950.00 of 2,150.00 = 0.44186 -> 0.4419.
    # April: t-apr paid day 3, o-apr not: 1 of 2, 1,200.00 / 2,150.00 = 0.55814 -> 0.5581; no
    #   30-day window has ended by Apr 30: null.
    assert shares == {
        "2026-01": (2, "1.0000", "1.0000", "1.0000", "1.0000"),
        "2026-02": (3, "0.0000", "0.0000", "0.3333", "0.4898"),
        "2026-03": (2, "0.5000", "0.4419", "0.5000", "0.4419"),
        "2026-04": (2, "0.5000", "0.5581", None, None),
    }


@pytest.mark.usefixtures("story")
def test_payment_speed_by_policy_and_by_coordinator_name_a_none_group() -> None:
    by_policy = _groups("payment-speed", "policy")
    assert list(by_policy) == ["", "ca-residential", "ny-residential"]
    # "" is A-SHOP, a commercial lease in NY that no policy takes: s-jan paid in 5 days, s-late
    #   not: 1 of 2; 2,000.00 of 2,300.00 = 0.86956 -> 0.8696.
    assert (by_policy[""]["share_5"], by_policy[""]["share_5_amount"]) == ("0.5000", "0.8696")
    # ny-residential, A-TINA: in 5 days t-jan and t-apr, 2 of 4; in 30 t-jan and t-feb of the 3
    #   measured: 2,400.00 / 3,600.00 = 0.6667
    assert (by_policy["ny-residential"]["share_5"], by_policy["ny-residential"]["share_30"]) == (
        "0.5000",
        "0.6667",
    )
    by_coordinator = _groups("payment-speed", "coordinator")
    assert list(by_coordinator) == ["", "alice"]
    assert by_coordinator["alice"]["charges"] == 6  # Elm Court's
    assert by_coordinator[""]["charges"] == 3  # Oak Terrace's, assigned to no one
    out = StringIO()
    write_table(_read("payment-speed", "coordinator"), out)
    assert "(none)" in out.getvalue()
    by_portfolio = _groups("payment-speed", "portfolio")
    # Elm Court is in NYC, Oak Terrace in no portfolio
    assert {k: g["charges"] for k, g in by_portfolio.items()} == {"": 3, "NYC": 6}


# -- recovery ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("story")
def test_recovery_of_the_case_and_the_write_off_net_of_the_firms_fees() -> None:
    groups = _groups("recovery", "property")
    # Tina's case (Mar 15, 1,200.00 owed): paid 1,200.00 on Apr 4 (April's rent) and 1,000.00
    #   on Apr 10: 2,200.00; Elm Legal's 20%: 440.00; net 1,760.00; 2,200 / 1,200 = 1.8333,
    #   1,760 / 1,200 = 1.4667; the settlement paid forgave 1,200.00 - 1,000.00 = 200.00.
    elm = groups["ELM"]
    assert (elm["cases"], elm["balance_referred"], elm["recovered"]) == (1, "1200.00", "2200.00")
    assert (elm["fees"], elm["net_recovered"], elm["forgiven"]) == ("440.00", "1760.00", "200.00")
    assert (elm["recovery_rate"], elm["net_recovery_rate"]) == ("1.8333", "1.4667")
    assert (elm["writeoffs"], elm["writeoff_recovery_rate"]) == (0, None)
    oak = groups["OAK"]
    # The case (Mar 26, 450.00 owed): paid 200.00 + 100.00 - 100.00 returned + 500.00 = 700.00
    #   to Apr 30 (the 50.00 of May 5 is after it); Hale & Co's 25%: 175.00; net 525.00.
    #   700 / 450 = 1.55556 -> 1.5556 (rent billed after the referral is paid too); net
    #   525 / 450 = 1.16667 -> 1.1667.
    # The write-off of 1,000.00: 300.00 recovered after it, the case's firm's 25% = 75.00, net
    #   225.00: 0.3000 gross, 0.2250 net.
    assert oak == {
        "key": "OAK",
        "cases": 1,
        "balance_referred": "450.00",
        "recovered": "700.00",
        "fees": "175.00",
        "net_recovered": "525.00",
        "forgiven": "0.00",
        "recovery_rate": "1.5556",
        "net_recovery_rate": "1.1667",
        "writeoffs": 1,
        "written_off": "1000.00",
        "writeoff_recovered": "300.00",
        "writeoff_fees": "75.00",
        "writeoff_net_recovered": "225.00",
        "writeoff_recovery_rate": "0.3000",
        "writeoff_net_recovery_rate": "0.2250",
    }
    # what the case recovered is the legal part's own figure over the same days
    case = Referral.objects.get(account__account_id="A-OSCAR")
    assert recovered_between(case.account_id, case.referred_on, LAST) == Decimal("700.00")
    # by month: both cases in March (their referrals), the write-off in April
    months = _groups("recovery", "month")
    assert (months["2026-03"]["cases"], months["2026-03"]["writeoffs"]) == (2, 0)
    assert (months["2026-04"]["cases"], months["2026-04"]["writeoffs"]) == (0, 1)
    assert months["2026-01"]["net_recovery_rate"] is None  # nothing referred: no rate


# -- promises and plans -----------------------------------------------------------------------


@pytest.mark.usefixtures("story")
def test_promises_kept_and_plans_kept_or_broken_by_property_and_by_month() -> None:
    doc = _read("promises", "property")
    assert list(doc.data) == ["from", "to", "groups"]  # counts: no currency
    # ELM: kept Jan 10 and Mar 5, broken Feb 15 (Dec 20's is before, May 3's after, the open
    #   one not settled): 2 / 3 = 0.6667. Plans: Tina's completed, the shop's broken: 1 / 2.
    # OAK: broken Mar 20, kept Apr 10: 0.5000. Plans: broken Apr 15 (the cancelled one is
    #   neither): 0 / 1 = 0.0000.
    assert doc.data["groups"] == [
        {
            "key": "ELM",
            "promises_kept": 2,
            "promises_broken": 1,
            "promise_kept_rate": "0.6667",
            "plans_completed": 1,
            "plans_broken": 1,
            "plan_kept_rate": "0.5000",
        },
        {
            "key": "OAK",
            "promises_kept": 1,
            "promises_broken": 1,
            "promise_kept_rate": "0.5000",
            "plans_completed": 0,
            "plans_broken": 1,
            "plan_kept_rate": "0.0000",
        },
    ]
    months = _groups("promises", "month")
    # each by the month it was settled or ended
    assert {k: (g["promises_kept"], g["promises_broken"]) for k, g in months.items()} == {
        "2026-01": (1, 0),
        "2026-02": (0, 1),
        "2026-03": (1, 1),
        "2026-04": (1, 0),
    }
    assert {k: (g["plans_completed"], g["plans_broken"]) for k, g in months.items()} == {
        "2026-01": (0, 0),
        "2026-02": (0, 1),
        "2026-03": (1, 0),
        "2026-04": (0, 1),
    }
    assert months["2026-01"]["plan_kept_rate"] is None


# -- disputes ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("story")
def test_disputes_by_outcome_and_days_to_resolve() -> None:
    (everything,) = _read("disputes").data["groups"]
    # opened in the period: Jan 12 (upheld in 3 days), Feb 10 (partly upheld, 20 days), Mar 5
    #   (rejected, 14 days), Apr 20 (resolved May 2: still open on Apr 30).
    # upheld rate: (1 + 1) / 3 resolved = 0.6667; days: (3 + 20 + 14) / 3 = 12.333 -> 12.33
    assert everything == {
        "key": "ALL",
        "opened": 4,
        "upheld": 1,
        "partial": 1,
        "rejected": 1,
        "open": 1,
        "resolved": 3,
        "upheld_rate": "0.6667",
        "days_to_resolve": "12.33",
    }
    groups = _groups("disputes", "property")
    # ELM: the shop's (3 days, upheld), Tina's two (14 days rejected, one open): 1 / 2, 8.50
    assert (groups["ELM"]["upheld_rate"], groups["ELM"]["days_to_resolve"]) == ("0.5000", "8.50")
    assert (groups["OAK"]["upheld_rate"], groups["OAK"]["days_to_resolve"]) == ("1.0000", "20.00")
    months = _groups("disputes", "month")
    assert (months["2026-04"]["open"], months["2026-04"]["days_to_resolve"]) == (1, None)
    by_policy = _groups("disputes", "policy")
    assert by_policy[""]["upheld"] == 1  # the shop's, which no policy takes


# -- scope, documents -------------------------------------------------------------------------


@pytest.mark.usefixtures("story")
def test_each_reader_sees_only_the_groups_of_their_scope(people: dict[str, Any]) -> None:
    for name in ("payment-speed", "recovery", "promises", "disputes"):
        # bob manages Elm Court only; carol is the attorney of Oscar's case; mallory sees nothing
        assert set(_groups(name, "property", people["bob"])) <= {"ELM"}, name
        assert set(_groups(name, "property", people["carol"])) <= {"OAK"}, name
        assert _groups(name, "property", people["mallory"]) == {}, name
    assert _groups("payment-speed", "property", people["bob"])["ELM"]["charges"] == 6
    assert _groups("recovery", "property", people["carol"])["OAK"]["cases"] == 1
    assert _groups("recovery", "property", people["bob"])["ELM"]["forgiven"] == "200.00"
    # without a grouping the whole of a manager's scope is one group: Elm Court's 4 disputes'
    # 3 in the period
    (bobs,) = _read("disputes", actor=people["bob"]).data["groups"]
    assert (bobs["key"], bobs["opened"]) == ("ALL", 3)


@pytest.mark.usefixtures("story")
def test_each_report_draws_a_table_and_a_bar_chart_of_its_rate() -> None:
    for name, series in (
        ("payment-speed", 2),
        ("recovery", 2),
        ("promises", 2),
        ("disputes", 1),
    ):
        doc = _read(name, "property")
        (table,) = doc.tables
        (chart,) = doc.charts
        assert [row["key"] for row in table.rows] == [g["key"] for g in doc.data["groups"]]
        assert chart.kind == "bars"
        assert chart.labels == tuple(g["key"] for g in doc.data["groups"])
        assert len(chart.series) == series
        assert all(len(s.values) == len(chart.labels) for s in chart.series)
    # the chart's bars are the JSON's rates
    doc = _read("disputes", "property")
    assert doc.charts[0].series[0].values == (Decimal("0.5000"), Decimal("1.0000"))
