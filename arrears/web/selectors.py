"""Reads for the pages of the collection cycle: the coordinator's day, the aging trend and the
collection rate by month (an account's activity is `dunning.selectors.activity_get`).

Each gathers, in one call, what one page shows, from the cycle's own selectors and records; none
writes. Counts are of the day asked for: letters and emails queued by that day's run, refusals of
that day's run; call and text tasks are counted while open, whatever day made them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Min, Sum
from django.db.models.functions import TruncMonth

from arrears.access.models import Profile
from arrears.access.permissions import sees_everything
from arrears.access.selectors import accounts_visible, aging_visible, role_of, worklist_visible
from arrears.core.fields import MoneyField
from arrears.correspondence.models import Outbound
from arrears.disputes.models import Dispute
from arrears.disputes.selectors import dispute_overdue_days
from arrears.dunning.models import Action, Hold
from arrears.dunning.selectors import WorkItem
from arrears.ledger.collection import (
    PAYMENT_REVERSAL,
    MonthRate,
    collection_rates,
    last_months,
    month_ends,
)
from arrears.ledger.models import Transaction
from arrears.legal.models import Referral
from arrears.plans.models import Plan, Promise
from arrears.plans.selectors import tracking_for

HOLDS_EXPIRING_WITHIN_DAYS = 7
LETTER_CHANNELS = ("letter", "certified_letter")


@dataclass(frozen=True)
class Refusals:
    """The refusals of one guard rule on one day."""

    rule: str
    count: int
    reason: str  # the first refusal's reason, as an example
    account_ids: tuple[str, ...]


@dataclass(frozen=True)
class Commitments:
    """The day's counts of the plans and disputes parts, over the user's accounts."""

    promises_due: int  # open promises whose date has come (kept or broken after their grace)
    plans_breaking: int  # active plans with an installment late or missed
    disputes_open: int
    disputes_ageing: int  # open longer than ARREARS_DISPUTE_DAYS: an answer is owed


def commitments_get(*, on: date, user: Any) -> Commitments:
    """Promises due, plans breaking and disputes ageing on `on`, over the accounts `user` sees."""
    everything = sees_everything(role_of(user))
    promises, plans = Promise.objects.all(), Plan.objects.all()
    disputes = Dispute.objects.all()
    if not everything:
        visible = accounts_visible(user)
        promises = promises.filter(account__in=visible)
        plans = plans.filter(account__in=visible)
        disputes = disputes.filter(account__in=visible)
    active = list(plans.filter(status="active", installments__due_on__lte=on).distinct())
    tracking = tracking_for(active, on)
    breaking = sum(
        1 for t in tracking.values() if any(line.status in ("late", "missed") for line in t.lines)
    )
    ageing = on - timedelta(days=dispute_overdue_days())
    return Commitments(
        promises_due=promises.filter(status="open", promised_on__lte=on).count(),
        plans_breaking=breaking,
        disputes_open=disputes.filter(status="open").count(),
        disputes_ageing=disputes.filter(status="open", opened_on__lt=ageing).count(),
    )


@dataclass(frozen=True)
class Backlog:
    """What is still waiting to go out, whatever the day it was queued: letters to print,
    letters printed but not yet mailed, emails to send; each with the oldest's queued date."""

    letters_to_print: int = 0
    letters_to_print_since: date | None = None
    letters_to_mail: int = 0
    letters_to_mail_since: date | None = None
    emails: int = 0
    emails_since: date | None = None

    @property
    def empty(self) -> bool:
        return not (self.letters_to_print or self.letters_to_mail or self.emails)


def backlog_get(*, user: Any) -> Backlog:
    """Every letter and email still waiting, over the accounts `user` may see: one query."""
    rows = Outbound.objects.filter(status__in=("queued", "rendered"))
    if not sees_everything(role_of(user)):
        rows = rows.filter(account__in=accounts_visible(user))
    counts: dict[str, int] = defaultdict(int)
    since: dict[str, date] = {}
    for channel, status, n, oldest in (
        rows.values("channel", "status")
        .annotate(n=Count("id"), oldest=Min("run_on"))
        .values_list("channel", "status", "n", "oldest")
    ):
        if channel == "email":
            what = "emails"
        else:
            what = "letters_to_print" if status == "queued" else "letters_to_mail"
        counts[what] += n
        since[what] = min(since.get(what, oldest), oldest)
    return Backlog(
        counts["letters_to_print"],
        since.get("letters_to_print"),
        counts["letters_to_mail"],
        since.get("letters_to_mail"),
        counts["emails"],
        since.get("emails"),
    )


def firms_known() -> list[str]:
    """The law firms a referral may name: the attorneys' firms and those already referred to."""
    firms = set(Profile.objects.exclude(firm="").values_list("firm", flat=True))
    firms |= set(Referral.objects.values_list("firm", flat=True).distinct())
    return sorted(firms)


@dataclass(frozen=True)
class Day:
    on: date
    work: list[WorkItem]
    letters: int
    certified_letters: int
    emails: int
    calls_open: int
    texts_open: int
    holds_expiring: list[Hold]
    refusals: list[Refusals]
    commitments: Commitments | None = None
    backlog: Backlog = Backlog()

    @property
    def letters_to_print(self) -> int:
        return self.letters + self.certified_letters

    @property
    def refused(self) -> int:
        return sum(r.count for r in self.refusals)


def day_get(*, on: date, user: Any) -> Day:
    """The day `on` as `user` sees it: the worklist and what the day's run left to send or decide,
    over the accounts the user may see."""
    everything = sees_everything(role_of(user))
    actions = (
        Action.objects.all()
        if everything
        else Action.objects.filter(account__in=accounts_visible(user))
    )
    holds = (
        Hold.objects.all()
        if everything
        else Hold.objects.filter(account__in=accounts_visible(user))
    )
    queued: dict[str, int] = defaultdict(int)
    for channel in actions.filter(run_on=on, status="queued").values_list("channel", flat=True):
        queued[channel] += 1
    tasks: dict[str, int] = defaultdict(int)
    for channel in actions.filter(status="task", run_on__lte=on).values_list("channel", flat=True):
        tasks[channel] += 1
    expiring = list(
        holds.filter(
            released_at__isnull=True,
            placed_on__lte=on,
            until__gte=on,
            until__lte=on + timedelta(days=HOLDS_EXPIRING_WITHIN_DAYS),
        )
        .select_related("account", "party")
        .order_by("until", "id")
    )
    by_rule: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for rule, reason, account_id in (
        actions.filter(run_on=on, status="refused")
        .order_by("rule", "account__account_id", "id")
        .values_list("rule", "reason", "account__account_id")
    ):
        by_rule[rule].append((reason, account_id))
    refusals = [
        Refusals(rule, len(rows), rows[0][0], tuple(dict.fromkeys(a for _, a in rows)))
        for rule, rows in sorted(by_rule.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    ]
    return Day(
        on=on,
        work=worklist_visible(user, on=on),
        letters=queued["letter"],
        certified_letters=queued["certified_letter"],
        emails=queued["email"],
        calls_open=tasks["call"],
        texts_open=tasks["sms"],
        holds_expiring=expiring,
        refusals=refusals,
        commitments=commitments_get(on=on, user=user),
        backlog=backlog_get(user=user),
    )


@dataclass(frozen=True)
class TrendPoint:
    on: date
    currency: str
    buckets: tuple[Any, ...]
    labels: tuple[str, ...]


def aging_trend(
    *, user: Any, as_of: date, months: int = 12, property_ids: list[str] | None = None
) -> list[TrendPoint]:
    """The aging at each of the last `months` month ends (the last point is `as_of` itself),
    over the accounts `user` may see, one point per month and currency."""
    ends = month_ends(as_of, months)
    found: dict[tuple[date, str], Any] = {}
    for end in ends:
        for report in aging_visible(user, as_of=end, by="portfolio", property_ids=property_ids):
            found[(end, report.currency)] = report
    points = []
    for currency in sorted({c for _, c in found}):
        labels = next(r.buckets.labels for (_, c), r in found.items() if c == currency)
        for end in ends:
            month = found.get((end, currency))
            amounts = month.totals.buckets if month else tuple(Decimal(0) for _ in labels)
            points.append(TrendPoint(end, currency, tuple(amounts), tuple(labels)))
    return points


@dataclass(frozen=True)
class StandingFlags:
    """What the account page's status strip says of an account's promises, plans, disputes and
    referrals (`standing_read`)."""

    promise_amount: Decimal | None  # the earliest open promise's
    promise_on: date | None
    latest_promise: str  # the latest promise's status ("" none)
    plan: str  # the latest plan's status ("" none)
    disputes_open: int
    dispute_since: date | None  # the oldest open dispute's day
    firm: str  # the firm of the latest referral not withdrawn ("" none)

    def may_hold(self) -> bool:
        """Whether a commitment may hold the account's steps (an open promise, an active plan,
        an open dispute): without one, its derived holds are none and need no reading."""
        return self.promise_amount is not None or self.plan == "active" or self.disputes_open > 0


def _sql_day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])  # SQLite: a scalar subquery's date is text


def standing_read(account_pk: int) -> StandingFlags:
    """One query for the account page's status strip (the page's target: one read each)."""
    from arrears.core import sql
    from arrears.legal.models import Referral

    p, pl, d, r = sql.table(Promise), sql.table(Plan), sql.table(Dispute), sql.table(Referral)
    open_promise = f"FROM {p} WHERE account_id = %s AND status = 'open' ORDER BY promised_on, id"
    row = sql.rows(
        f"SELECT (SELECT amount {open_promise} LIMIT 1),"
        f" (SELECT promised_on {open_promise} LIMIT 1),"
        f" (SELECT status FROM {p} WHERE account_id = %s ORDER BY made_on DESC, id DESC LIMIT 1),"
        f" (SELECT status FROM {pl} WHERE account_id = %s ORDER BY id DESC LIMIT 1),"
        f" (SELECT COUNT(*) FROM {d} WHERE account_id = %s AND status = 'open'),"
        f" (SELECT MIN(opened_on) FROM {d} WHERE account_id = %s AND status = 'open'),"
        f" (SELECT firm FROM {r} WHERE account_id = %s AND withdrawn_on IS NULL"
        " ORDER BY referred_on DESC, id DESC LIMIT 1)",
        [account_pk] * 7,
    )[0]
    cents = row[0]
    return StandingFlags(
        promise_amount=None if cents is None else Decimal(int(cents)) / 100,
        promise_on=_sql_day(row[1]),
        latest_promise=row[2] or "",
        plan=row[3] or "",
        disputes_open=int(row[4] or 0),
        dispute_since=_sql_day(row[5]),
        firm=row[6] or "",
    )


def collection_trend(
    *, user: Any, as_of: date, months: int = 12, property_ids: list[str] | None = None
) -> dict[str, list[MonthRate]]:
    """The collection rate of each of the last `months` months (to `as_of`, which ends the last
    one) over the accounts `user` may see, by currency: two aggregate queries over the entries,
    the charges and payments, then the reversals of payments (few, each joined to its payment by
    its key: one query of both would join, or hash, every payment of the book)."""
    firsts = last_months(as_of, months)
    entries = Transaction.objects.filter(posted_on__gte=firsts[0], posted_on__lte=as_of)
    if not sees_everything(role_of(user)):
        entries = entries.filter(account__in=accounts_visible(user))
    if property_ids is not None:
        entries = entries.filter(account__property__property_id__in=property_ids)
    sums: dict[str, dict[tuple[date, str], Decimal]] = defaultdict(dict)
    for kind, chosen in (
        (None, entries.filter(type__in=[Transaction.Type.CHARGE, Transaction.Type.PAYMENT])),
        (
            PAYMENT_REVERSAL,
            entries.filter(type=Transaction.Type.REVERSAL, reverses__type=Transaction.Type.PAYMENT),
        ),
    ):
        for currency, month, type_, total in (
            chosen.annotate(month=TruncMonth("posted_on"))
            .values_list("account__currency", "month", "type")
            .annotate(total=Sum("amount", output_field=MoneyField()))
            .order_by()
        ):
            sums[currency][(month, kind or type_)] = total
    return {currency: collection_rates(sums[currency], firsts) for currency in sorted(sums)}
