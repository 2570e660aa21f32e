"""The reports of what collection work does (`reports.works`: notices, activity, what-works),
read through `acts_reports.report_read`, on small books worked by hand, and each role's scope.

The cast's book, March 2026 (period 2026-03-01 to 2026-03-31), 14-day windows D … D + 13:

    A-TINA (ELM, NY)  t-1  03-01 charge  1200.00 due 03-01
                      t-2  03-10 payment  500.00 (t-1: 700 open)
                      t-3  03-12 payment  700.00 (t-1 paid) t-4 03-14 reversal of t-3 (700 open)
    A-OSCAR (OAK, CA) o-1  02-01 charge   950.00 due 02-01   o-2 03-01 charge 950.00 due 03-01
                      o-3  03-05 payment 1900.00 (both paid)

Notices sent (what followed, within 14 days):
    N1 A-TINA  ny-residential reminder      email            03-02  past due 1200 (t-1, due
       03-01); paid 03-02 … 03-15: t-2 500 (t-3 reversed 03-14, by 03-15: not counted) -> partly
    N2 A-TINA  ny-residential late-notice   certified_letter 03-07 (to Tina and to Greg, her
       guarantor: one notice); past due 1200; paid 03-07 … 03-20: 500 (t-3 reversed by 03-20);
       a plan made 03-16 -> plan (a plan comes before a partial payment)
    N3 A-OSCAR ca-residential late-notice   letter           03-03  past due 950 + 950 = 1900;
       paid 03-03 … 03-16: 1900 -> paid in full
    N4 A-OSCAR ca-residential text          sms              03-20  past due 0, paid 0 -> nothing
    N5 A-TINA  ny-residential call          call (task)      03-25  past due 700; nothing paid
       03-25 … 04-07, the plan was made before -> nothing
  and what is not a notice sent: a statement emailed (no policy), an email cancelled, a reminder
  emailed 02-20 (before the period).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from arrears.access.acts_reports import report_read
from arrears.access.assignments import assignment_set, target_from
from arrears.access.services import SystemActor
from arrears.access.tests.people import BOOK, write_book
from arrears.correspondence.mail_models import OutboundSms
from arrears.correspondence.models import Outbound
from arrears.dunning.models import Action, ContactAttempt
from arrears.ledger.models import Account, Party, TimelineEvent
from arrears.ledger.services import book_import
from arrears.plans.models import Plan, Promise
from arrears.reports.models import NoticeOutcome
from arrears.reports.notice_days import notice_days_keep
from arrears.reports.render import write_table

pytestmark = pytest.mark.django_db

OPERATOR = SystemActor("root")
FIRST, LAST = date(2026, 3, 1), date(2026, 3, 31)


def _txn(txn_id: str, account: str, posted: str, type_: str, amount: str, **more: str) -> Any:
    row = {"txn_id": txn_id, "account_id": account, "posted": posted, "type": type_}
    row |= {"amount": amount, "code": "", "due": "", "applies_to": ""}
    row |= {"reverses": more.get("reverses", "")}
    if type_ == "charge":
        row |= {"code": "RENT", "due": more.get("due", posted)}
    return row


CAST_BOOK = {
    **BOOK,
    "transactions": [
        _txn("o-1", "A-OSCAR", "2026-02-01", "charge", "950.00"),
        _txn("t-1", "A-TINA", "2026-03-01", "charge", "1200.00"),
        _txn("o-2", "A-OSCAR", "2026-03-01", "charge", "950.00"),
        _txn("o-3", "A-OSCAR", "2026-03-05", "payment", "1900.00"),
        _txn("t-2", "A-TINA", "2026-03-10", "payment", "500.00"),
        _txn("t-3", "A-TINA", "2026-03-12", "payment", "700.00"),
        _txn("t-4", "A-TINA", "2026-03-14", "reversal", "700.00", reverses="t-3"),
    ],
}


@pytest.fixture
def book(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The cast's book (people.book, overridden here) with March's story above."""
    monkeypatch.setenv("ARREARS_TODAY", "2026-04-30")
    folder = write_book(tmp_path / "book", CAST_BOOK)
    book_import(folder)
    return folder


AT = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _action(key: str, account: str, policy: str, step: str, channel: str, **more: Any) -> Any:
    return Action.objects.create(
        key=key,
        account=Account.objects.get(account_id=account),
        party=more.get("party"),
        policy=policy,
        policy_version=1,
        step=step,
        action="call" if channel == "call" else "notice",
        channel=channel,
        status=more.get("status", "queued"),
        run_on=more["run_on"],
        created_at=AT,
    )


def _outbound(key: str, account: str, party: str, channel: str, **more: Any) -> Any:
    return Outbound.objects.create(
        key=key,
        account=Account.objects.get(account_id=account),
        party=Party.objects.get(party_id=party),
        channel=channel,
        template=more.get("template", "t"),
        policy=more.get("policy", ""),
        step=more.get("step", ""),
        run_on=more["run_on"],
        dated_on=more.get("dated_on"),
        mailed_on=more.get("mailed_on"),
        status=more["status"],
        document_name="",
        created_at=AT,
        detail=more.get("detail", {}),
    )


def _notices(*, kept: bool = False) -> None:
    ny, ca = "ny-residential", "ca-residential"
    # N1: the reminder emailed on 03-02
    _outbound(
        "n1",
        "A-TINA",
        "P-TINA",
        "email",
        policy=ny,
        step="reminder",
        run_on=date(2026, 3, 2),
        dated_on=date(2026, 3, 2),
        status="sent",
    )
    # N2: the certified late notice mailed on 03-07, to Tina and to Greg (one notice)
    for key, party in (("n2-tina", "P-TINA"), ("n2-greg", "P-GREG")):
        _outbound(
            key,
            "A-TINA",
            party,
            "certified_letter",
            policy=ny,
            step="late-notice",
            run_on=date(2026, 3, 6),
            dated_on=date(2026, 3, 7),
            mailed_on=date(2026, 3, 7),
            status="mailed",
        )
    # N3: Oscar's letter printed (rendered) on 03-03
    _outbound(
        "n3",
        "A-OSCAR",
        "P-OSCAR",
        "letter",
        policy=ca,
        step="late-notice",
        run_on=date(2026, 3, 3),
        dated_on=date(2026, 3, 3),
        status="rendered",
    )
    # N4: a text sent on 03-20, from its action's task
    _action("n4", "A-OSCAR", ca, "text", "sms", status="closed", run_on=date(2026, 3, 20))
    OutboundSms.objects.create(
        key="n4",
        account=Account.objects.get(account_id="A-OSCAR"),
        party=Party.objects.get(party_id="P-OSCAR"),
        to_number="+15105550103",
        body="b",
        provider="test",
        status="sent",
        on=date(2026, 3, 20),
        created_at=AT,
    )
    # N5: a call task set on 03-25
    _action("n5", "A-TINA", ny, "call", "call", status="task", run_on=date(2026, 3, 25))
    # not notices sent: a statement, a cancelled email, a call refused, one before the period
    _outbound(
        "s1",
        "A-TINA",
        "P-TINA",
        "email",
        step="statement",
        run_on=date(2026, 3, 9),
        dated_on=date(2026, 3, 9),
        status="sent",
    )
    _outbound(
        "x1",
        "A-OSCAR",
        "P-OSCAR",
        "email",
        policy=ca,
        step="reminder",
        run_on=date(2026, 3, 2),
        status="cancelled",
    )
    _action("x2", "A-OSCAR", ca, "call", "call", status="refused", run_on=date(2026, 3, 21))
    _outbound(
        "x3",
        "A-TINA",
        "P-TINA",
        "email",
        policy=ny,
        step="reminder",
        run_on=date(2026, 2, 20),
        dated_on=date(2026, 2, 20),
        status="sent",
    )
    # the plan agreed on 03-16
    Plan.objects.create(
        account=Account.objects.get(account_id="A-TINA"),
        amount=Decimal("700.00"),
        frequency="monthly",
        start_on=date(2026, 4, 1),
        made_on=date(2026, 3, 16),
        grace_days=5,
        require_current=False,
        created_by="alice",
    )
    if kept:  # as the daily snapshots' build keeps them (reports.notice_days)
        with transaction.atomic():
            assert notice_days_keep(first=date(2026, 2, 1), last=date(2026, 4, 30)) == 2
        assert NoticeOutcome.objects.filter(day__gte=FIRST, day__lte=LAST).count() == 5


# each notices test twice: the notices kept with the snapshots, and computed live
KEPT_OR_LIVE = pytest.mark.parametrize("kept", [False, True], ids=["live", "kept"])


def _line(group: dict[str, Any], step: str, channel: str) -> dict[str, Any]:
    (found,) = [s for s in group["steps"] if s["step"] == step and s["channel"] == channel]
    return found


@KEPT_OR_LIVE
def test_the_notices_of_march_and_what_followed_each_are_the_hand_computed_ones(
    people: Any, kept: bool
) -> None:
    # given the five notices sent in March (module docstring), kept with the snapshots or not
    _notices(kept=kept)
    # when the operator reads the report
    doc = report_read(actor=OPERATOR, name="notices", as_of=LAST, date_from=FIRST)
    data = doc.data
    assert list(data) == ["from", "to", "currency", "window_days", "groups", "total"]
    assert (data["from"], data["to"], data["currency"]) == ("2026-03-01", "2026-03-31", "USD")
    (group,) = data["groups"]
    assert group["key"] == "ALL"
    # then: 5 sent; in full N3; a plan N2; partly N1; nothing N4, N5
    assert (group["sent"], group["paid_full"], group["plan"]) == (5, 1, 1)
    assert (group["paid_part"], group["nothing"]) == (1, 2)
    # shares: 1/5, 1/5, 1/5, 2/5
    assert group["paid_full_share"] == "0.2000"
    assert group["nothing_share"] == "0.4000"
    # collected once: t-2 500 (after N1 and N2) + o-3 1900 (after N3) = 2400
    assert group["collected"] == "2400.00"
    assert data["total"]["collected"] == "2400.00"
    reminder = _line(group, "reminder", "email")
    assert (reminder["sent"], reminder["paid_part"], reminder["collected"]) == (1, 1, "500.00")
    late = _line(group, "late-notice", "certified_letter")
    # Tina's notice went to her and to Greg: one notice, 500 collected within its window
    assert (late["sent"], late["plan"], late["collected"]) == (1, 1, "500.00")
    oscar = _line(group, "late-notice", "letter")
    assert (oscar["paid_full"], oscar["paid_full_share"], oscar["collected"]) == (
        1,
        "1.0000",
        "1900.00",
    )
    text = _line(group, "text", "sms")
    assert (text["nothing"], text["collected"]) == (1, "0.00")
    call = _line(group, "call", "call")
    assert (call["policy"], call["nothing"]) == ("ny-residential", 1)
    # the lines' collected add 500 twice (2900): the group's counts a payment once
    assert sum(Decimal(s["collected"]) for s in group["steps"]) == Decimal("2900.00")
    # the table and the chart draw the same numbers
    (table,) = doc.tables
    assert len(table.rows) == 5
    assert table.total is not None
    assert table.total["sent"] == 5
    (chart,) = doc.charts
    assert chart.kind == "stacked"
    assert [s.values for s in chart.series if s.name == "nothing"] == [
        tuple(Decimal(s["nothing"]) for s in group["steps"])
    ]


@KEPT_OR_LIVE
def test_the_notices_by_property_and_by_month_split_them_by_hand(people: Any, kept: bool) -> None:
    _notices(kept=kept)
    doc = report_read(actor=OPERATOR, name="notices", as_of=LAST, date_from=FIRST, by="property")
    elm, oak = doc.data["groups"]
    # ELM: N1 (partly), N2 (plan), N5 (nothing); 500 collected
    assert (elm["key"], elm["sent"], elm["paid_part"], elm["plan"], elm["nothing"]) == (
        "ELM",
        3,
        1,
        1,
        1,
    )
    assert elm["collected"] == "500.00"
    # OAK: N3 (in full), N4 (nothing); 1900 collected
    assert (oak["key"], oak["sent"], oak["paid_full"], oak["nothing"]) == ("OAK", 2, 1, 1)
    assert oak["collected"] == "1900.00"
    # by coordinator: alice works ELM's accounts from 03-01; OAK's are no one's ("")
    assignment_set(username="alice", target=target_from(property_id="ELM"), on=FIRST, actor="erin")
    coordinators = report_read(
        actor=OPERATOR, name="notices", as_of=LAST, date_from=FIRST, by="coordinator"
    )
    nobody, alice = coordinators.data["groups"]
    assert (nobody["key"], nobody["sent"], nobody["collected"]) == ("", 2, "1900.00")
    assert (alice["key"], alice["sent"], alice["collected"]) == ("alice", 3, "500.00")
    months = report_read(actor=OPERATOR, name="notices", as_of=LAST, date_from=FIRST, by="month")
    (march,) = months.data["groups"]
    assert (march["key"], march["sent"], march["collected"]) == ("2026-03", 5, "2400.00")


@KEPT_OR_LIVE
def test_each_role_reads_the_notices_of_its_own_accounts(people: Any, kept: bool) -> None:
    _notices(kept=kept)

    def seen(name: str) -> tuple[int, str, list[str]]:
        doc = report_read(
            actor=people[name], name="notices", as_of=LAST, date_from=FIRST, by="property"
        )
        groups = doc.data["groups"]
        return doc.data["total"]["sent"], doc.data["total"]["collected"], [g["key"] for g in groups]

    assert seen("alice") == (5, "2400.00", ["ELM", "OAK"])
    # bob manages ELM: Tina's three notices and the 500 paid after them
    assert seen("bob") == (3, "500.00", ["ELM"])
    # carol's firm has A-OSCAR referred
    assert seen("carol") == (2, "1900.00", ["OAK"])
    # another company's manager: nothing of A's
    assert seen("mallory") == (0, "0.00", [])


def _activity() -> None:
    tina, oscar = (
        Account.objects.get(account_id="A-TINA"),
        Account.objects.get(account_id="A-OSCAR"),
    )

    def call(account: Any, party: str, at: datetime, outcome: str, talked: bool) -> None:
        ContactAttempt.objects.create(
            account=account,
            party=Party.objects.get(party_id=party),
            channel="call",
            at=at,
            outcome=outcome,
            conversation=talked,
        )
        TimelineEvent.objects.create(
            account=account, at=at, on=at.date(), kind="call.logged", actor="alice", summary="c"
        )

    # alice: a call to Tina on 03-09 that reached her (a promise), one to Oscar on 03-04 that
    # did not; the promise and the plan are hers
    call(tina, "P-TINA", datetime(2026, 3, 9, 15, tzinfo=UTC), "promise", True)
    call(oscar, "P-OSCAR", datetime(2026, 3, 4, 15, tzinfo=UTC), "no-answer", False)
    Promise.objects.create(
        account=tina,
        amount=Decimal("500.00"),
        promised_on=date(2026, 3, 10),
        made_on=date(2026, 3, 9),
        made_by="alice",
    )
    Plan.objects.create(
        account=tina,
        amount=Decimal("700.00"),
        frequency="monthly",
        start_on=date(2026, 4, 1),
        made_on=date(2026, 3, 16),
        grace_days=5,
        require_current=False,
        created_by="alice",
    )
    # zoe: a notice by hand to Oscar on 03-02 (printed 03-03), an email of Tina's answered 03-11
    _outbound(
        "h1",
        "A-OSCAR",
        "P-OSCAR",
        "letter",
        policy="ca-residential",
        step="by-hand",
        run_on=date(2026, 3, 2),
        dated_on=date(2026, 3, 3),
        status="rendered",
        detail={"by_hand": "zoe"},
    )
    TimelineEvent.objects.create(
        account=tina,
        at=datetime(2026, 3, 11, 16, tzinfo=UTC),
        on=date(2026, 3, 11),
        kind="email.answered",
        actor="zoe",
        summary="answered",
    )
    # and a by-hand notice never sent (cancelled): no contact
    _outbound(
        "h2",
        "A-TINA",
        "P-TINA",
        "email",
        policy="ny-residential",
        step="by-hand",
        run_on=date(2026, 3, 20),
        status="cancelled",
        detail={"by_hand": "zoe"},
    )


def test_the_activity_of_each_coordinator_is_the_hand_computed_one(people: Any) -> None:
    # given alice's and zoe's March (_activity)
    _activity()
    # when the operator reads the activity (by coordinator, the default)
    doc = report_read(actor=OPERATOR, name="activity", as_of=LAST, date_from=FIRST)
    alice, zoe = doc.data["groups"]
    # then alice: 2 calls, 1 reached Tina; 1 promise, 1 plan; paid 03-09 … 03-22 on Tina's
    # account: t-2 500 (t-3 reversed 03-14, by 03-22: not counted)
    assert alice == {
        "key": "alice",
        "calls": 2,
        "contacts": 1,
        "promises": 1,
        "plans": 1,
        "collected_after_contact": "500.00",
    }
    # zoe: the notice by hand (03-02 … 03-15 on Oscar's: o-3 1900) and the email answered
    # (03-11 … 03-24 on Tina's: t-3 reversed within it, nothing)
    assert zoe == {
        "key": "zoe",
        "calls": 0,
        "contacts": 2,
        "promises": 0,
        "plans": 0,
        "collected_after_contact": "1900.00",
    }
    assert doc.data["total"]["collected_after_contact"] == "2400.00"
    (chart,) = doc.charts
    assert chart.labels == ("alice", "zoe")
    by_property = report_read(
        actor=OPERATOR, name="activity", as_of=LAST, date_from=FIRST, by="property"
    )
    elm, oak = by_property.data["groups"]
    # ELM (Tina): the call that reached her and the email answered; 500 once
    assert (elm["key"], elm["calls"], elm["contacts"], elm["promises"], elm["plans"]) == (
        "ELM",
        1,
        2,
        1,
        1,
    )
    assert elm["collected_after_contact"] == "500.00"
    assert (oak["key"], oak["calls"], oak["contacts"], oak["collected_after_contact"]) == (
        "OAK",
        1,
        1,
        "1900.00",
    )
    by_month = report_read(actor=OPERATOR, name="activity", as_of=LAST, date_from=FIRST, by="month")
    (march,) = by_month.data["groups"]
    assert (march["key"], march["calls"], march["contacts"]) == ("2026-03", 2, 3)


def test_each_role_reads_the_activity_on_its_own_accounts(people: Any) -> None:
    _activity()

    def keys(name: str) -> dict[str, tuple[int, int, str]]:
        doc = report_read(actor=people[name], name="activity", as_of=LAST, date_from=FIRST)
        return {
            g["key"]: (g["calls"], g["contacts"], g["collected_after_contact"])
            for g in doc.data["groups"]
        }

    # bob (ELM): alice's call to Tina, zoe's answer to Tina's email
    assert keys("bob") == {"alice": (1, 1, "500.00"), "zoe": (0, 1, "0.00")}
    assert keys("carol") == {"alice": (1, 0, "0.00"), "zoe": (0, 1, "1900.00")}
    assert keys("mallory") == {}


# What works: ten accounts, ten rents of 1000.00; ELM (NY) unless said.
#     W-A1 due 03-01, late notice mailed 03-07, paid 03-12
#     W-A2 due 03-01, late notice mailed 03-07, never paid
#     W-A3 due 03-01, late notice mailed 03-10, paid 03-18
#     W-C1 due 03-01, paid 03-15    W-C2 due 03-01, paid 03-21    W-C3 due 03-01, never paid
#     W-X1 due 02-01, paid 03-09 (31-60 days past due: another bucket)
#     W-X3 due 02-25, late notice mailed 02-27 (within 13 days of 03-07 and 03-10), paid 03-08
#     W-X4 due 03-01, paid 03-01 (nothing past due)
#     W-X2 (OAK, CA) due 03-01, paid 03-09 (another policy)
# The cycle recorded a reminder refused (03-02) of ny-residential for W-C*, W-X1, W-X4, and of
# ca-residential for W-X2: their policy.
WORKS = {
    "A1": ("ELM", "2026-03-01", "2026-03-12"),
    "A2": ("ELM", "2026-03-01", None),
    "A3": ("ELM", "2026-03-01", "2026-03-18"),
    "C1": ("ELM", "2026-03-01", "2026-03-15"),
    "C2": ("ELM", "2026-03-01", "2026-03-21"),
    "C3": ("ELM", "2026-03-01", None),
    "X1": ("ELM", "2026-02-01", "2026-03-09"),
    "X3": ("ELM", "2026-02-25", "2026-03-08"),
    "X4": ("ELM", "2026-03-01", "2026-03-01"),
    "X2": ("OAK", "2026-03-01", "2026-03-09"),
}
SENT = {"A1": "2026-03-07", "A2": "2026-03-07", "A3": "2026-03-10", "X3": "2026-02-27"}


@pytest.fixture
def works_book(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARREARS_TODAY", "2026-04-30")
    rows = []
    for name, (_prop, due, paid) in WORKS.items():
        rows.append(_txn(f"{name}-r", f"W-{name}", due, "charge", "1000.00", due=due))
        if paid:
            rows.append(_txn(f"{name}-p", f"W-{name}", paid, "payment", "1000.00"))
    book = {
        "properties": BOOK["properties"],
        "parties": [
            {"party_id": f"P-{n}", "name": n, "state": "NY", "country": "US"} for n in WORKS
        ],
        "accounts": [
            {
                "account_id": f"W-{n}",
                "property_id": prop,
                "kind": "residential_lease",
                "opened": "2025-01-01",
            }
            for n, (prop, _due, _paid) in WORKS.items()
        ],
        "account_parties": [
            {"account_id": f"W-{n}", "party_id": f"P-{n}", "role": "primary"} for n in WORKS
        ],
        "transactions": sorted(rows, key=lambda r: r["posted"]),
    }
    book_import(write_book(tmp_path / "works", book))
    for name, day in SENT.items():
        on = date.fromisoformat(day)
        account = f"W-{name}"
        _action(
            f"w-{name}", account, "ny-residential", "late-notice", "certified_letter", run_on=on
        )
        _outbound(
            f"w-{name}",
            account,
            f"P-{name}",
            "certified_letter",
            policy="ny-residential",
            step="late-notice",
            run_on=on,
            dated_on=on,
            mailed_on=on,
            status="mailed",
        )
    for name in ("C1", "C2", "C3", "X1", "X4", "X2"):
        policy = "ca-residential" if name == "X2" else "ny-residential"
        _action(
            f"r-{name}",
            f"W-{name}",
            policy,
            "reminder",
            "email",
            status="refused",
            run_on=date(2026, 3, 2),
        )


@pytest.mark.usefixtures("works_book")
def test_what_works_compares_the_accounts_sent_a_step_with_those_not_sent_it_yet() -> None:
    doc = report_read(actor=OPERATOR, name="what-works", as_of=LAST, date_from=FIRST)
    (row,) = doc.data["groups"]
    assert row["key"] == "ny-residential / late-notice / US-NY / certified_letter"
    # sent in March: A1, A2 (03-07), A3 (03-10); X3's (02-27) is before the period
    assert (row["sent"], row["not_past_due"], row["unmatched"]) == (3, 0, 0)
    # 03-07, 1-30 days past due: sent A1 (paid 03-12), A2 (not); not sent yet: A3 (paid 03-18),
    #   C1 (03-15), C2 (03-21, after 03-20: not), C3 (never): 2 of 4. X1 is 34 days past due
    #   (31-60: no one sent the step there), X3 was sent it 02-27 (within 13 days: left out),
    #   X4 owes nothing, X2 follows another policy.
    # 03-10, 1-30: sent A3 (paid); not sent yet: C1 (paid 03-15), C2 (03-21, by 03-23: paid),
    #   C3 (not): 2 of 3. A1 and A2 were sent it 03-07 (within 13 days: left out).
    assert (row["treated"], row["treated_paid"], row["controls"], row["controls_paid"]) == (
        3,
        2,
        7,
        4,
    )
    # sent: 2 of 3 = 0.6667; not sent yet, weighted by the sent of each day:
    # (2 x 2/4 + 1 x 2/3) / 3 = 5/9 = 0.5556; lift 2/3 - 5/9 = 1/9 = 0.1111
    assert (row["treated_share"], row["control_share"], row["lift"]) == (
        "0.6667",
        "0.5556",
        "0.1111",
    )
    assert row["few"] is True
    (table,) = doc.tables
    assert table.rows[0]["sample"] == "few"
    (chart,) = doc.charts
    assert [s.values for s in chart.series] == [(Decimal("0.6667"),), (Decimal("0.5556"),)]


@pytest.mark.usefixtures("works_book")
def test_what_works_within_a_managers_scope_and_for_a_reader_who_sees_nothing() -> None:
    from arrears.access.services import user_add
    from arrears.access.tests.people import OPERATOR as SETUP

    def reader(name: str, props: list[str]) -> Any:
        return user_add(
            username=name,
            password="elm-court-rent-2026",
            role="manager",
            properties=props,
            actor=SETUP,
            via="system",
        )

    oak = report_read(actor=reader("olga", ["OAK"]), name="what-works", as_of=LAST, date_from=FIRST)
    # OAK has no notice sent: no step to compare
    assert oak.data["groups"] == []
    elm = report_read(actor=reader("ed", ["ELM"]), name="what-works", as_of=LAST, date_from=FIRST)
    assert elm.data["groups"][0]["treated_share"] == "0.6667"


def test_the_reports_render_in_every_format_and_as_a_page(people: Any) -> None:
    from io import StringIO

    from arrears.reports.formats import FILE_FORMATS, report_html, to_bytes

    _activity()  # a notice by hand among its records
    for name in ("notices", "activity", "what-works"):
        doc = report_read(actor=OPERATOR, name=name, as_of=LAST, date_from=FIRST, by=None)
        out = StringIO()
        write_table(doc, out)
        assert str(doc.tables[0].columns[0].label) in out.getvalue()
        for fmt in FILE_FORMATS:
            assert to_bytes(doc, fmt)
        assert str(doc.title) in report_html(doc)
