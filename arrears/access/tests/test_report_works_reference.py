"""`notices` and `what-works` (reports.works) against a straightforward reference on random
small books: past due, the oldest open charge's bucket and what was paid within 14 days are
worked out here day by day from the book's open-item deltas and payments, the way
docs/metrics.md words them, then the reports' figures from those. The reports compute the
same in one statement each, with running sums over intervals (works_sql); the random books
reach what the hand-worked fixtures of test_report_works.py do not: charges open across the
bucket limits and paid partly, back-dated and reversed payments, sendings repeated within 14
days, several policies, steps, channels and jurisdictions.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from arrears.access.acts_reports import report_read
from arrears.access.services import SystemActor
from arrears.access.tests.people import BOOK, write_book
from arrears.correspondence.models import Outbound
from arrears.dunning.models import Action
from arrears.ledger.models import Account, OpenItemDelta, Party, Transaction
from arrears.ledger.services import book_import
from arrears.plans.models import Plan
from arrears.reports.models import NoticeKept, NoticeOutcome, NoticePayment
from arrears.reports.notice_days import notice_days_keep
from arrears.reports.snapshots import snapshots_build
from arrears.reports.works import OUTCOMES, _compared, _counts

pytestmark = pytest.mark.django_db

OPERATOR = SystemActor("root")
FIRST, LAST = date(2026, 3, 1), date(2026, 3, 31)
WINDOW = 14
POLICIES = {"ELM": "ny-residential", "OAK": "ca-residential", "OTHER": "ny-residential"}
STEPS = ("reminder", "late-notice", "call")
AT = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _day(rng: random.Random, low: date, high: date) -> date:
    return low + timedelta(days=rng.randint(0, (high - low).days))


def _book(rng: random.Random, folder: Path) -> list[tuple[str, str, str, str, date]]:
    """A random book imported, its notices written; returns the notices sent (account,
    policy, step, channel, day)."""
    accounts = [f"R-{i}" for i in range(12)]
    props = {a: rng.choice(sorted(POLICIES)) for a in accounts}
    rows: list[dict[str, str]] = []
    for a in accounts:
        for i in range(rng.randint(1, 4)):  # charges, some due before they are posted
            due = _day(rng, date(2025, 11, 1), date(2026, 3, 25))
            posted = min(due, _day(rng, due - timedelta(days=10), due))
            cents = rng.randint(1, 20) * 5000
            rows.append(_txn(f"{a}-c{i}", a, posted, "charge", cents, due=due))
        for i in range(rng.randint(0, 4)):
            day = _day(rng, date(2026, 1, 15), date(2026, 4, 13))
            cents = rng.randint(1, 30) * 2500
            rows.append(_txn(f"{a}-p{i}", a, day, "payment", cents))
            if rng.random() < 0.3:  # returned, within or after the 14 days
                back = day + timedelta(days=rng.randint(1, 20))
                rows.append(_txn(f"{a}-v{i}", a, back, "reversal", cents, reverses=f"{a}-p{i}"))
    book = {
        "properties": BOOK["properties"],
        "parties": [{"party_id": f"P-{a}", "name": a} for a in accounts],
        "accounts": [
            {
                "account_id": a,
                "property_id": props[a],
                "kind": "residential_lease",
                "opened": "2025-01-01",
            }
            for a in accounts
        ],
        "account_parties": [
            {"account_id": a, "party_id": f"P-{a}", "role": "primary"} for a in accounts
        ],
        "transactions": sorted(rows, key=lambda r: (r["posted"], r["txn_id"])),
    }
    book_import(write_book(folder, book))
    sent = []
    for n in range(rng.randint(20, 45)):
        a = rng.choice(accounts)
        policy = POLICIES[props[a]] if rng.random() < 0.85 else "other-policy"
        step = rng.choice(STEPS)
        day = _day(rng, FIRST - timedelta(days=20), LAST)
        channel = "call" if step == "call" else rng.choice(("email", "letter"))
        _send(a, policy, step, channel, day, f"k{n}")
        sent.append((a, policy, step, channel, day))
    for n, a in enumerate(rng.sample(accounts, 4)):  # a step refused: the policy, no notice
        Action.objects.create(
            key=f"r{n}",
            account=Account.objects.get(account_id=a),
            policy=POLICIES[props[a]],
            policy_version=1,
            step="reminder",
            action="notice",
            channel="email",
            status="refused",
            run_on=_day(rng, FIRST - timedelta(days=80), LAST),
            created_at=AT,
        )
    for a in rng.sample(accounts, 3):
        _plan(a, _day(rng, FIRST, LAST + timedelta(days=10)))
    return sent


def _plan(a: str, made_on: date) -> None:
    Plan.objects.create(
        account=Account.objects.get(account_id=a),
        amount=Decimal("100.00"),
        frequency="monthly",
        start_on=date(2026, 5, 1),
        made_on=made_on,
        grace_days=5,
        require_current=False,
        created_by="alice",
    )


def _send(a: str, policy: str, step: str, channel: str, day: date, key: str) -> None:
    """A notice sent: its action, and its letter or email (a call is the action alone)."""
    account = Account.objects.get(account_id=a)
    Action.objects.create(
        key=key,
        account=account,
        policy=policy,
        policy_version=1,
        step=step,
        action="call" if channel == "call" else "notice",
        channel=channel,
        status="task" if channel == "call" else "done",
        run_on=day,
        created_at=AT,
    )
    if channel != "call":
        Outbound.objects.create(
            key=key,
            account=account,
            party=Party.objects.get(party_id=f"P-{a}"),
            channel=channel,
            template="t",
            policy=policy,
            step=step,
            run_on=day,
            dated_on=day,
            mailed_on=day if channel == "letter" else None,
            status="mailed" if channel == "letter" else "sent",
            document_name="",
            created_at=AT,
        )


def _txn(txn_id: str, account: str, posted: date, type_: str, cents: int, **more: Any) -> Any:
    row = {"txn_id": txn_id, "account_id": account, "posted": posted.isoformat()}
    row |= {"type": type_, "amount": f"{Decimal(cents) / 100:.2f}", "code": "", "due": ""}
    row |= {"applies_to": "", "reverses": more.get("reverses", "")}
    if type_ == "charge":
        row |= {"code": "RENT", "due": more["due"].isoformat()}
    return row


class Ledger:
    """The book as the definitions read it, day by day."""

    def __init__(self) -> None:
        self.deltas: dict[str, list[tuple[int, date, date, int]]] = defaultdict(list)
        for d in OpenItemDelta.objects.filter(is_credit=False).select_related("account"):
            assert d.due_on is not None  # a charge's
            self.deltas[d.account.account_id].append(
                (d.item_id, d.due_on, d.on_date, int(d.delta * 100))
            )
        reversed_on: dict[int, date] = {}
        for r in Transaction.objects.filter(type="reversal"):
            if r.reverses_id is not None:
                day = reversed_on.get(r.reverses_id, r.posted_on)
                reversed_on[r.reverses_id] = min(day, r.posted_on)
        self.payments: dict[str, list[tuple[int, date, int, date | None]]] = defaultdict(list)
        for t in Transaction.objects.filter(type="payment").select_related("account"):
            self.payments[t.account.account_id].append(
                (t.id, t.posted_on, int(t.amount * 100), reversed_on.get(t.id))
            )

    def open_charges(self, account: str, day: date) -> dict[int, tuple[date, int]]:
        """The charges due before `day` and open as it began: due day, open cents."""
        held: dict[int, list[Any]] = {}
        for item, due, on, cents in self.deltas[account]:
            if due < day and on < day:
                held.setdefault(item, [due, 0])[1] += cents
        return {item: (due, cents) for item, (due, cents) in held.items() if cents > 0}

    def past_due(self, account: str, day: date) -> int:
        return sum(cents for _due, cents in self.open_charges(account, day).values())

    def bucket(self, account: str, day: date) -> str | None:
        open_ = self.open_charges(account, day)
        if not open_:
            return None
        days = (day - min(due for due, _cents in open_.values())).days
        return "1-30" if days <= 30 else "31-60" if days <= 60 else "61-90" if days <= 90 else "91+"

    def paid(self, account: str, day: date) -> list[tuple[int, int]]:
        """The payments (id, cents) posted on day … day + 13 not reversed by then."""
        end = day + timedelta(days=WINDOW - 1)
        return [
            (pid, cents)
            for pid, on, cents, back in self.payments[account]
            if day <= on <= end and (back is None or back > end)
        ]


def _jurisdiction(account: str) -> str:
    prop = Account.objects.select_related("property").get(account_id=account).property
    assert prop is not None
    return f"{prop.country}-{prop.state.upper()}" if prop.state else prop.country


def _what_works(ledger: Ledger, sent: list[tuple[str, str, str, str, date]]) -> list[Any]:
    notices = {n for n in sent if FIRST - timedelta(days=WINDOW - 1) <= n[4] <= LAST}
    accounts = [a.account_id for a in Account.objects.all()]
    jur = {a: _jurisdiction(a) for a in accounts}
    policies: dict[str, set[str]] = defaultdict(set)
    for a, policy, *_rest in notices:
        policies[a].add(policy)
    for action in Action.objects.filter(
        run_on__gte=FIRST - timedelta(days=90), run_on__lte=LAST
    ).select_related("account"):
        policies[action.account.account_id].add(action.policy)
    count: dict[tuple[str, str, str, str], int] = defaultdict(int)
    strata: dict[Any, dict[Any, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0] * 4))
    for a, policy, step, channel, day in sorted(notices, key=lambda n: (n[4], n)):
        if day < FIRST:
            continue
        row = (policy, step, jur[a], channel)
        count[row] += 1
        bucket = ledger.bucket(a, day)
        if bucket is None:
            continue
        cell = strata[row][day, bucket]
        cell[0] += 1
        cell[1] += 1 if ledger.paid(a, day) else 0
    for row, cells in strata.items():
        policy, step, where, _channel = row
        for (day, bucket), cell in cells.items():
            for x in accounts:
                if policy not in policies[x] or jur[x] != where:
                    continue
                if ledger.bucket(x, day) != bucket:
                    continue
                if any(
                    n[0] == x
                    and n[1:3] == (policy, step)
                    and day - timedelta(days=WINDOW - 1) <= n[4] <= day
                    for n in notices
                ):
                    continue  # sent the step in the 13 days before or that day
                cell[2] += 1
                cell[3] += 1 if ledger.paid(x, day) else 0
    return [_compared(row, count[row], strata.get(row, {})) for row in sorted(count)]


def _notices(ledger: Ledger, sent: list[tuple[str, str, str, str, date]], by: str | None) -> Any:
    plans = [(p.account.account_id, p.made_on) for p in Plan.objects.all()]
    lines: dict[str, dict[Any, dict[str, int]]] = defaultdict(dict)
    line_paid: dict[Any, set[tuple[int, int]]] = defaultdict(set)
    group_paid: dict[str, set[tuple[int, int]]] = defaultdict(set)
    for a, policy, step, channel, day in {n for n in sent if FIRST <= n[4] <= LAST}:
        key = "ALL" if by is None else day.strftime("%Y-%m")
        paid = ledger.paid(a, day)
        cents, owed = sum(c for _id, c in paid), ledger.past_due(a, day)
        end = day + timedelta(days=WINDOW - 1)
        if cents > 0 and cents >= owed:
            outcome = "paid_full"
        elif any(p == a and day <= on <= end for p, on in plans):
            outcome = "plan"
        else:
            outcome = "paid_part" if cents > 0 else "nothing"
        counts = lines[key].setdefault((policy, step, channel), {})
        counts[outcome] = counts.get(outcome, 0) + 1
        line_paid[key, (policy, step, channel)].update(paid)
        group_paid[key].update(paid)
    if by is None:
        lines.setdefault("ALL", {})
    groups, everything = [], dict.fromkeys(OUTCOMES, 0)
    for key in sorted(lines):
        summed = {o: sum(c.get(o, 0) for c in lines[key].values()) for o in OUTCOMES}
        for o in OUTCOMES:
            everything[o] += summed[o]
        steps = [
            {"policy": p, "step": s, "channel": c}
            | _counts(lines[key][p, s, c], sum(x for _i, x in line_paid[key, (p, s, c)]))
            for p, s, c in sorted(lines[key])
        ]
        group_cents = sum(x for _i, x in group_paid[key])
        groups.append({"key": key, **_counts(summed, group_cents), "steps": steps})
    total = sum(x for _i, x in set().union(*group_paid.values())) if group_paid else 0
    return groups, _counts(everything, total)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_notices_and_what_works_equal_a_day_by_day_reference_on_a_random_book(
    seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARREARS_TODAY", "2026-04-30")
    sent = _book(random.Random(seed), tmp_path / "book")
    ledger = Ledger()
    works = report_read(actor=OPERATOR, name="what-works", as_of=LAST, date_from=FIRST)
    assert works.data["groups"] == _what_works(ledger, sent)
    assert any(g["treated"] and g["controls"] for g in works.data["groups"])  # compared some
    for by in (None, "month"):
        doc = report_read(actor=OPERATOR, name="notices", as_of=LAST, date_from=FIRST, by=by)
        groups, total = _notices(ledger, sent, by)
        assert doc.data["groups"] == groups
        assert doc.data["total"] == total


def _later(rng: random.Random, folder: Path, sent: list[Any]) -> None:
    """The book after notice days were kept: payments and charges posted back-dated into the
    period, payments reversed, plans made, notices sent (the kept rows of some accounts go
    stale, others not, new notice days have none)."""
    accounts = sorted({n[0] for n in sent})
    kept = sorted(
        {(k.account.account_id, k.day) for k in NoticeOutcome.objects.select_related("account")}
    )
    rows = []
    for i, (a, day) in enumerate(rng.sample(kept, min(4, len(kept)))):  # within kept days
        paid = day + timedelta(days=rng.randint(0, WINDOW - 1))
        rows.append(_txn(f"K-{a}-p{i}", a, paid, "payment", rng.randint(1, 30) * 2500))
        due = day - timedelta(days=rng.randint(1, 40))
        rows.append(_txn(f"K-{a}-c{i}", a, due, "charge", rng.randint(1, 20) * 5000, due=due))
    for i, a in enumerate(rng.sample(accounts, 5)):
        day = _day(rng, FIRST - timedelta(days=10), LAST)
        rows.append(_txn(f"L-{a}-p{i}", a, day, "payment", rng.randint(1, 30) * 2500))
        due = _day(rng, FIRST - timedelta(days=40), LAST)
        rows.append(_txn(f"L-{a}-c{i}", a, due, "charge", rng.randint(1, 20) * 5000, due=due))
    reversed_ = set(
        Transaction.objects.filter(type="reversal").values_list("reverses_id", flat=True)
    )
    counted = NoticePayment.objects.values_list("payment", flat=True)  # kept as paid
    payments = list(
        Transaction.objects.filter(type="payment", pk__in=list(counted))
        .exclude(pk__in=reversed_)
        .select_related("account")
        .order_by("pk")
    )
    for i, p in enumerate(rng.sample(payments, min(3, len(payments)))):
        back = p.posted_on + timedelta(days=rng.randint(0, 16))
        cents = int(p.amount * 100)
        rows.append(
            _txn(f"L-v{i}", p.account.account_id, back, "reversal", cents, reverses=p.txn_id)
        )
    book_import(write_book(folder, {"transactions": sorted(rows, key=lambda r: r["posted"])}))
    planned = set(Plan.objects.values_list("account__account_id", flat=True))  # one each
    posted = {r["account_id"] for r in rows}
    quiet = [a for a in accounts if a not in planned and a not in posted]  # a plan alone
    for a in rng.sample(quiet, min(2, len(quiet))):
        days = [d for k, d in kept if k == a] or [_day(rng, FIRST - timedelta(days=5), LAST)]
        _plan(a, rng.choice(days) + timedelta(days=rng.randint(0, WINDOW - 1)))
        planned.add(a)
    for a in rng.sample([a for a in accounts if a not in planned], 3):
        days = [d for k, d in kept if k == a] or [_day(rng, FIRST - timedelta(days=5), LAST)]
        _plan(a, rng.choice(days) + timedelta(days=rng.randint(0, WINDOW - 1)))
    for n in range(5):
        a, policy, step, _channel, day = rng.choice(sent)
        day = _day(rng, FIRST, LAST)
        channel = "call" if step == "call" else "email"
        _send(a, policy, step, channel, day, f"later{n}")
        sent.append((a, policy, step, channel, day))
    # a kept letter mailed on another day than the one it was kept with
    row = rng.choice(list(Outbound.objects.filter(channel="letter").select_related("account")))
    notice = (row.account.account_id, row.policy, row.step, row.channel, row.mailed_on)
    row.mailed_on = row.dated_on + timedelta(days=rng.randint(1, 3))
    row.save(update_fields=["mailed_on"])
    sent.remove(notice)
    sent.append((*notice[:4], row.mailed_on))


def _forget() -> None:
    for model in (NoticeOutcome, NoticePayment, NoticeKept):
        model.objects.all().delete()


@pytest.mark.parametrize("seed", [5, 6, 7, 8])
def test_notices_from_kept_days_equal_the_live_report_and_the_reference_after_the_book_changes(
    seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a random book whose notice days were kept part way through the period
    monkeypatch.setenv("ARREARS_TODAY", "2026-04-30")
    rng = random.Random(seed)
    sent = _book(rng, tmp_path / "book")
    since = FIRST - timedelta(days=20)
    with transaction.atomic():
        notice_days_keep(first=since, last=_day(rng, FIRST + timedelta(days=20), LAST))
    kept_before = set(NoticeOutcome.objects.values_list("account_id", "day"))
    assert kept_before
    # when the book changes after it (back-dated entries, reversals, plans, notices)
    _later(rng, tmp_path / "later", sent)

    def read() -> dict[Any, Any]:
        return {
            (by, start): report_read(
                actor=OPERATOR, name="notices", as_of=LAST, date_from=start, by=by
            ).data
            for by in (None, "month", "property")
            for start in (FIRST, since)  # one month, and across two
        }

    # then the report from kept and live days equals the reference and the report all live
    ledger = Ledger()
    kept_and_live = read()
    for by in (None, "month"):
        groups, total = _notices(ledger, sent, by)
        assert kept_and_live[by, FIRST]["groups"] == groups
        assert kept_and_live[by, FIRST]["total"] == total
    _forget()
    assert read() == kept_and_live
    # and so does it once every notice day is kept again, some rewritten and some not
    with transaction.atomic():
        notice_days_keep(first=since, last=LAST + timedelta(days=20))
    with transaction.atomic():
        notice_days_keep(first=since, last=LAST + timedelta(days=20))
    kept_after = set(NoticeOutcome.objects.values_list("account_id", "day"))
    assert {(a, d) for a, *_rest, d in _account_days(sent)} <= kept_after
    assert read() == kept_and_live
    # and when a kept notice turns out not to have gone (its email failed), as the live report
    row = Outbound.objects.filter(channel="email", status="sent").order_by("pk").first()
    assert row is not None
    row.status = "failed"
    row.save(update_fields=["status"])
    after = read()
    assert after != kept_and_live
    _forget()
    assert read() == after


def _account_days(sent: list[Any]) -> set[tuple[int, date]]:
    pks = dict(Account.objects.values_list("account_id", "pk"))
    return {(pks[a], day) for a, _p, _s, _c, day in sent if since_first(day)}


def since_first(day: date) -> bool:
    return FIRST - timedelta(days=20) <= day <= LAST


def test_the_snapshots_build_keeps_the_notices_of_the_days_it_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a random book with its notices
    monkeypatch.setenv("ARREARS_TODAY", "2026-04-30")
    sent = _book(random.Random(9), tmp_path / "book")
    # when the daily snapshots are built over the period and the 20 days before it
    snapshots_build(date_from=FIRST - timedelta(days=20), date_to=LAST)
    # then each notice of those days is kept, once, and the report reads them as the reference
    assert NoticeOutcome.objects.count() == len(set(sent))
    assert NoticeKept.objects.count() == len({n[0] for n in sent})
    doc = report_read(actor=OPERATOR, name="notices", as_of=LAST, date_from=FIRST)
    assert (doc.data["groups"], doc.data["total"]) == _notices(Ledger(), sent, None)
    # and a build with nothing new computes no account again
    with transaction.atomic():
        assert notice_days_keep(first=FIRST - timedelta(days=20), last=LAST) == 0
