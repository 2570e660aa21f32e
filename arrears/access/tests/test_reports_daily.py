"""The daily A/R review, the aging trend, the manager's weekly digest and the attorney's cases
(`reports.daily`), read through `acts_reports.report_read`: hand-computed on the hand book of
test_reports (Ann at Elm Court, Ben at Oak Terrace), agreeing with `arrears aging`, the same from
the snapshots as from the book, and each within its reader's scope (the cast).

The hand book's open charges, as they matter here (days past due in brackets):
- Ann: ann-3 1000.00 due 02-01, posted 02-01; 400.00 paid 02-10; 600.00 paid 03-15. ann-5
  1000.00 due 03-01. (ann-1 was paid on 01-05.)
- Ben: ben-1 500.00 due 12-01, ben-2 500.00 due 01-01; ben-3 paid ben-1 on 02-15, its reversal
  reopened it on 02-20; ben-5 500.00 due 03-01; a credit of 50.00 on 03-20.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.utils import translation

from arrears.access.acts_legal import agenda_read
from arrears.access.acts_reports import report_read, snapshots_build
from arrears.access.services import SystemActor
from arrears.access.tests.people import FIRM, TODAY, attorney_of_another_firm, cli
from arrears.access.tests.test_reports import hand_book  # noqa: F401 - a fixture
from arrears.dunning.models import Action
from arrears.dunning.services import cycle_run, hold_place
from arrears.ledger.collection import month_ends
from arrears.ledger.selectors import aging_report
from arrears.plans.services import promise_add
from arrears.reports import snapshots
from arrears.reports.daily import aging_trend_data
from arrears.reports.registry import Ask
from arrears.reports.render import write_csv, write_table

pytestmark = pytest.mark.django_db

OPERATOR = SystemActor("root")
ZERO = "0.00"


def _line(**amounts: str) -> dict[str, str]:
    """An aging line of the JSON: every bucket 0.00 but those named."""
    names = {"d1_30": "1-30", "d31_60": "31-60", "d61_90": "61-90", "d91": "91+"}
    line = {"current": ZERO, "1-30": ZERO, "31-60": ZERO, "61-90": ZERO, "91+": ZERO}
    line |= {"credit": ZERO, "balance": ZERO, "past_due": ZERO}
    line |= {names.get(k, k): v for k, v in amounts.items()}
    return line


@pytest.mark.usefixtures("hand_book")
def test_the_daily_review_of_february_2_is_the_hand_computed_one() -> None:
    # given the hand book; when the operator reads the review of Monday, February 2, by property
    doc = report_read(actor=OPERATOR, name="daily", as_of=date(2026, 2, 2), by="property")
    data = doc.data
    assert data["days"] == ["2026-01-26", "2026-02-01", "2026-02-02"]
    # then Ann is the one new delinquency: ann-3 (due 02-01) was current at the end of 02-01
    # and 1 day past due at the end of 02-02; Ben was past due on both days
    assert data["new_delinquencies"] == [
        {
            "account_id": "A-ANN",
            "property_id": "ELM",
            "key": "ELM",
            "past_due": "1000.00",
            "balance": "1000.00",
        }
    ]
    assert data["new_delinquencies_total"] == {"count": 1, "past_due": "1000.00"}
    # Ann moved up by her past due (balance 1000 -> 1000, past due 0 -> 1000); Ben did not move
    assert data["movers"] == {
        "up": [
            {
                "account_id": "A-ANN",
                "property_id": "ELM",
                "balance_before": "1000.00",
                "balance": "1000.00",
                "past_due_before": ZERO,
                "past_due": "1000.00",
                "move": "1000.00",
            }
        ],
        "down": [],
    }
    # the aging, by hand:
    # 01-26: Ann nothing open; Ben ben-1 [56] 31-60 500, ben-2 [25] 1-30 500
    # 02-01: Ann ann-3 [0] current 1000; Ben ben-1 [62] 61-90, ben-2 [31] 31-60
    # 02-02: Ann ann-3 [1] 1-30 1000; Ben ben-1 [63] 61-90, ben-2 [32] 31-60
    assert data["aging_totals"] == [
        {
            "day": "2026-01-26",
            **_line(d1_30="500.00", d31_60="500.00", balance="1000.00", past_due="1000.00"),
        },
        {
            "day": "2026-02-01",
            **_line(
                current="1000.00",
                d31_60="500.00",
                d61_90="500.00",
                balance="2000.00",
                past_due="1000.00",
            ),
        },
        {
            "day": "2026-02-02",
            **_line(
                d1_30="1000.00",
                d31_60="500.00",
                d61_90="500.00",
                balance="2000.00",
                past_due="2000.00",
            ),
        },
    ]
    # by property: each building on each day (Elm Court nothing on 01-26)
    assert [(row["key"], row["day"], row["balance"]) for row in data["aging"]] == [
        ("ELM", "2026-01-26", ZERO),
        ("ELM", "2026-02-01", "1000.00"),
        ("ELM", "2026-02-02", "1000.00"),
        ("OAK", "2026-01-26", "1000.00"),
        ("OAK", "2026-02-01", "1000.00"),
        ("OAK", "2026-02-02", "1000.00"),
    ]
    # the chart stacks the same totals: 1-30 at D-7, D-1, D
    (chart,) = doc.charts
    assert chart.kind == "stacked"
    assert chart.labels == ("2026-01-26", "2026-02-01", "2026-02-02")
    series = {s.name: s.values for s in chart.series}
    assert series["1-30"] == (Decimal("500"), Decimal("0"), Decimal("1000"))
    assert series["current"] == (Decimal("0"), Decimal("1000"), Decimal("0"))


@pytest.mark.usefixtures("hand_book")
def test_the_daily_aging_is_the_aging_command_s_on_each_day() -> None:
    on = date(2026, 3, 20)
    doc = report_read(actor=OPERATOR, name="daily", as_of=on)
    for row in doc.data["aging_totals"]:
        (aged,) = aging_report(as_of=date.fromisoformat(row["day"]))
        expected = aged.as_json()["totals"]
        assert {k: row[k] for k in expected} == expected


@pytest.mark.usefixtures("hand_book")
def test_a_payment_falls_and_a_reversal_rises_among_the_movers() -> None:
    # February 10: Ann paid 400.00 of ann-3 (1000 -> 600, all of it past due)
    doc = report_read(actor=OPERATOR, name="daily", as_of=date(2026, 2, 10))
    assert [(m["account_id"], m["move"]) for m in doc.data["movers"]["down"]] == [
        ("A-ANN", "-400.00")
    ]
    assert doc.data["movers"]["up"] == []
    assert doc.data["new_delinquencies"] == []
    # February 20: ben-3's reversal reopened ben-1 (Ben 500 -> 1000, all past due)
    doc = report_read(actor=OPERATOR, name="daily", as_of=date(2026, 2, 20))
    assert [(m["account_id"], m["move"]) for m in doc.data["movers"]["up"]] == [("A-BEN", "500.00")]


@pytest.mark.usefixtures("hand_book")
def test_the_daily_review_is_the_same_from_the_snapshots_as_from_the_book() -> None:
    on = date(2026, 3, 2)
    from_book = report_read(actor=OPERATOR, name="daily", as_of=on, by="portfolio").data
    # when the snapshots cover the days
    snapshots_build(actor=OPERATOR, date_from=date(2026, 1, 1), date_to=date(2026, 3, 31))
    assert snapshots.covers([date(2026, 2, 23), on])
    # then the review reads them, and says the same
    assert report_read(actor=OPERATOR, name="daily", as_of=on, by="portfolio").data == from_book


@pytest.mark.usefixtures("hand_book")
def test_the_daily_review_says_what_the_run_and_the_people_did_that_day() -> None:
    # given on February 2 a promise by Ann of 300.00 for February 5 and a hold on Ben
    promise_add(
        account_id="A-ANN",
        amount=Decimal("300.00"),
        promised_on=date(2026, 2, 5),
        on=date(2026, 2, 2),
        actor="alice",
    )
    hold_place(account_id="A-BEN", reason="manual", on=date(2026, 2, 2), actor="alice")
    # and the daily run of February 2
    cycle_run(on=date(2026, 2, 2))
    run = report_read(actor=OPERATOR, name="daily", as_of=date(2026, 2, 2)).data["run"]
    assert run["ran"] is True
    assert run["holds_placed"] == [{"reason": "manual", "count": 1}]
    assert run["plans"]["started"] == {"count": 0, "amount": ZERO}
    # then the notices are the run's notice actions of the day, by channel and status
    counted: dict[tuple[str, str], int] = {}
    for action in Action.objects.filter(run_on=date(2026, 2, 2), action="notice"):
        counted[(action.channel, action.status)] = (
            counted.get((action.channel, action.status), 0) + 1
        )
    assert {(n["channel"], n["status"]): n["count"] for n in run["notices"]} == counted
    # and on February 5 the promise is due
    later = report_read(actor=OPERATOR, name="daily", as_of=date(2026, 2, 5)).data["run"]
    assert later["promises"]["due"] == {"count": 1, "amount": "300.00"}
    assert later["ran"] is False


@pytest.mark.usefixtures("hand_book")
def test_the_aging_trend_is_the_aging_command_at_each_month_end(capsys: Any) -> None:
    on = date(2026, 3, 15)
    doc = report_read(actor=OPERATOR, name="aging-trend", as_of=on, by="property")
    data = doc.data
    # the 12 month ends of March 2025 to February 2026, then March 15
    assert data["days"] == [d.isoformat() for d in month_ends(on, 13)]
    assert data["days"][0] == "2025-03-31"
    assert data["days"][-3:] == ["2026-01-31", "2026-02-28", "2026-03-15"]
    # each point is `arrears aging --as-of` that day
    for point in data["points"]:
        code, out, err = cli(capsys, "aging", "--as-of", point["day"], "--format", "json")
        assert code == 0, err
        totals = json.loads(out)["totals"]
        assert {k: point[k] for k in totals} == totals
    points = {p["day"]: p for p in data["points"]}
    # by hand: 01-31: Ben ben-1 [61] 61-90 500, ben-2 [30] 1-30 500: 500 of 1000 over 60 days
    assert points["2026-01-31"]["over_60_share"] == "0.5000"
    # 02-28: Ann ann-3 600 [27] 1-30; Ben ben-1 [89] 61-90 500 (reopened), ben-2 [58] 31-60
    # 500: 500 of 1600 over 60 days
    assert points["2026-02-28"]["over_60_share"] == "0.3125"
    # 03-15: Ann ann-5 1000 [14] 1-30 (ann-6 paid ann-3); Ben ben-1 [104] 91+ 500, ben-2 [73]
    # 61-90 500, ben-5 [14] 1-30 500: 1000 of 2500 over 60 days
    assert points["2026-03-15"] == {
        "day": "2026-03-15",
        **_line(
            d1_30="1500.00", d61_90="500.00", d91="500.00", balance="2500.00", past_due="2500.00"
        ),
        "over_60_share": "0.4000",
    }
    # a month end with nothing open has no share
    assert points["2025-03-31"]["over_60_share"] is None
    assert [g["key"] for g in data["groups"]] == ["ELM", "OAK"]
    # the charts: the buckets stacked, and the share a line
    stacked, line = doc.charts
    assert (stacked.kind, line.kind, line.unit) == ("stacked", "line", "share")
    assert line.series[0].values[-1] == Decimal("0.4000")


@pytest.mark.usefixtures("hand_book")
def test_the_aging_trend_is_the_same_from_the_snapshots_as_from_the_book() -> None:
    on = date(2026, 3, 15)
    ask = Ask(as_of=on, by="portfolio")
    snapshots_build(actor=OPERATOR, date_from=date(2025, 3, 1), date_to=on)
    assert snapshots.covers(month_ends(on, 13))
    from_snapshots = aging_trend_data(ask, from_snapshots=True)
    assert from_snapshots == aging_trend_data(ask, from_snapshots=False)
    assert from_snapshots["points"][-1]["balance"] == "2500.00"


# -- the cast: the digest and the cases within each reader's scope ------------------------------
# A-TINA (Elm Court, bob's) owes 1200.00 due 2026-03-01; A-OSCAR (Oak Terrace) 950.00 due
# 2026-02-01, referred to Hale & Co on 2026-03-26 (TODAY).


def test_a_manager_s_digest_is_of_their_buildings_only(people: Any) -> None:
    # given a promise Tina made on March 4
    promise_add(
        account_id="A-TINA",
        amount=Decimal("600.00"),
        promised_on=date(2026, 3, 10),
        on=date(2026, 3, 4),
        actor="alice",
    )
    # when bob reads the digest of the week of February 27 to March 5
    doc = report_read(actor=people["bob"], name="manager-digest", as_of=date(2026, 3, 5))
    data = doc.data
    assert (data["from"], data["to"], data["week_ago"]) == (
        "2026-02-27",
        "2026-03-05",
        "2026-02-26",
    )
    # then Elm Court alone: Tina's rent, posted March 1, is 4 days past due on March 5 and was
    # nothing on February 26: one new delinquency, 0 -> 1200 of balance and of past due
    (elm,) = data["properties"]
    assert elm == {
        "property_id": "ELM",
        "name": "Elm Court",
        "balance_week_ago": ZERO,
        "balance": "1200.00",
        "past_due_week_ago": ZERO,
        "past_due": "1200.00",
        "new_delinquencies": 1,
        "notices": 0,
        "promises_made": 1,
        "promises_kept": 0,
        "promises_broken": 0,
        "plans_started": 0,
        "plans_broken": 0,
        "cases": 0,
        "largest": [{"account_id": "A-TINA", "balance": "1200.00", "past_due": "1200.00"}],
    }
    assert data["case_changes"] == []
    (chart,) = doc.charts
    assert chart.labels == ("ELM",)
    assert [s.values for s in chart.series] == [(Decimal("0"),), (Decimal("1200"),)]


def test_another_company_s_manager_reads_an_empty_digest(people: Any) -> None:
    for name in ("manager-digest", "daily", "aging-trend", "cases"):
        doc = report_read(actor=people["mallory"], name=name, as_of=TODAY)
        text = json.dumps(doc.data)
        assert "A-TINA" not in text
        assert "A-OSCAR" not in text
        assert "ELM" not in text
        assert "OAK" not in text
    digest = report_read(actor=people["mallory"], name="manager-digest", as_of=TODAY).data
    assert digest["properties"] == []
    assert digest["totals"]["past_due"] == ZERO


def test_the_coordinator_s_digest_has_every_building_and_the_week_s_referral(
    people: Any,
) -> None:
    data = report_read(actor=people["alice"], name="manager-digest", as_of=TODAY).data
    assert [b["property_id"] for b in data["properties"]] == ["ELM", "OAK"]
    oak = data["properties"][1]
    # Oscar's 950.00, due February 1, past due both a week ago and now; referred on TODAY
    assert (oak["past_due_week_ago"], oak["past_due"], oak["cases"]) == ("950.00", "950.00", 1)
    assert [(c["account_id"], c["firm"], c["on"], c["status"]) for c in data["case_changes"]] == [
        ("A-OSCAR", FIRM, TODAY.isoformat(), "sent")
    ]
    assert data["totals"]["past_due"] == "2150.00"  # 1200.00 + 950.00
    # bob's digest of the same week has no case: Elm Court has none
    bob = report_read(actor=people["bob"], name="manager-digest", as_of=TODAY).data
    assert [b["property_id"] for b in bob["properties"]] == ["ELM"]
    assert bob["case_changes"] == []


def test_a_manager_s_daily_review_is_of_their_buildings(people: Any) -> None:
    # March 2: Tina's rent (due March 1) is 1 day past due; Oscar's was already
    alice = report_read(actor=people["alice"], name="daily", as_of=date(2026, 3, 2)).data
    bob = report_read(actor=people["bob"], name="daily", as_of=date(2026, 3, 2)).data
    assert [r["account_id"] for r in alice["new_delinquencies"]] == ["A-TINA"]
    assert [r["account_id"] for r in bob["new_delinquencies"]] == ["A-TINA"]
    assert alice["aging_totals"][-1]["past_due"] == "2150.00"
    assert bob["aging_totals"][-1]["past_due"] == "1200.00"
    # by coordinator: no account is assigned, so one group, "" (none)
    grouped = report_read(
        actor=people["alice"], name="daily", as_of=date(2026, 3, 2), by="coordinator"
    ).data
    assert {row["key"] for row in grouped["aging"]} == {""}
    assert grouped["aging"][-1]["past_due"] == "2150.00"


def test_the_cases_report_is_each_firm_s_agenda_within_the_scope(people: Any) -> None:
    # the coordinator: every firm, each agenda as the meeting's
    alice = report_read(actor=people["alice"], name="cases", as_of=TODAY)
    (agenda,) = alice.data["firms"]
    assert agenda == agenda_read(actor=people["alice"], firm=FIRM)
    assert [c["account_id"] for c in agenda["cases"]] == ["A-OSCAR"]
    assert [t.title for t in alice.tables] == [
        f"Cases of {FIRM}",
        f"Hearings of {FIRM}",
        f"Recoveries of {FIRM}",
    ]
    # the firm's attorney: their firm's agenda
    carol = report_read(actor=people["carol"], name="cases", as_of=TODAY)
    assert [f["firm"] for f in carol.data["firms"]] == [FIRM]
    assert [c["account_id"] for c in carol.data["firms"][0]["cases"]] == ["A-OSCAR"]
    # another firm's attorney and the manager of a building with no case: no firm
    otto = attorney_of_another_firm()
    assert report_read(actor=otto, name="cases", as_of=TODAY).data["firms"] == []
    assert report_read(actor=people["bob"], name="cases", as_of=TODAY).data["firms"] == []


@pytest.mark.usefixtures("hand_book")
def test_each_report_prints_as_a_table_and_csv_and_reads_in_spanish() -> None:
    on = date(2026, 3, 15)
    for name in ("daily", "aging-trend", "manager-digest", "cases"):
        doc = report_read(actor=OPERATOR, name=name, as_of=on)
        table, rows = StringIO(), StringIO()
        write_table(doc, table)
        write_csv(doc, rows)
        assert table.getvalue().startswith(f"{doc.title}, {doc.subtitle}")
    # the digest's total past due, as the table prints it: Ann 1000.00 + Ben 1500.00
    doc = report_read(actor=OPERATOR, name="manager-digest", as_of=on)
    assert doc.data["totals"]["past_due"] == "2500.00"
    out = StringIO()
    write_table(doc, out)
    assert "2500.00" in out.getvalue()
    with translation.override("es"):
        doc = report_read(actor=OPERATOR, name="daily", as_of=on)
        out = StringIO()
        write_table(doc, out)
    assert out.getvalue().startswith("Revisión diaria de cuentas por cobrar, al 2026-03-15")
    assert "Nuevas morosidades" in out.getvalue()
