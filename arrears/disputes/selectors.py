"""Reads of disputes: what they hold on the daily run, overdue ones for the worklist, and the
account analysis that answers them.

`disputed_amounts` is read once per chunk of the daily run: one query for the chunk's key range.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from arrears.core.errors import NotFoundError, ValidationError
from arrears.core.money import ZERO, fmt
from arrears.disputes.checks import Applied, CheckResult, Entry, Rules, check_figures
from arrears.disputes.models import Dispute, DisputedCharge
from arrears.ledger.allocation import TYPES
from arrears.ledger.selectors import account_ledger, open_items_as_of


@dataclass(frozen=True)
class Disputed:
    """What open disputes hold on one account: the whole balance, or these charges' amounts."""

    whole: bool
    charges: dict[str, Decimal]  # txn_id -> amount held
    disputes: tuple[int, ...]

    @property
    def amount(self) -> Decimal:
        return sum(self.charges.values(), ZERO)


def disputed_amounts(account_pks: Iterable[int], on: date) -> dict[int, Disputed]:
    """The open disputes' holds on `on`, by account, in one query over the accounts' key range."""
    pks = list(account_pks)
    if not pks:
        return {}
    wanted = set(pks)
    whole: dict[int, bool] = defaultdict(bool)
    charges: dict[int, dict[str, Decimal]] = defaultdict(dict)
    ids: dict[int, set[int]] = defaultdict(set)
    for pk, dispute_id, is_whole, txn_id, amount in DisputedCharge.objects.filter(
        dispute__account_id__gte=min(pks),
        dispute__account_id__lte=max(pks),
        dispute__status="open",
        dispute__opened_on__lte=on,
    ).values_list(
        "dispute__account_id", "dispute_id", "dispute__whole_balance", "charge__txn_id", "amount"
    ):
        if pk not in wanted:
            continue
        whole[pk] |= is_whole
        charges[pk][txn_id] = charges[pk].get(txn_id, ZERO) + amount
        ids[pk].add(dispute_id)
    return {pk: Disputed(whole[pk], charges[pk], tuple(sorted(ids[pk]))) for pk in ids}


@dataclass(frozen=True)
class OverdueDispute:
    account_pk: int
    dispute_id: int
    opened_on: date
    amount: Decimal


def dispute_overdue_days() -> int:
    """Days a dispute may stay open before it goes on the worklist (ARREARS_DISPUTE_DAYS, 30).

    15 USC §1692g(b) sets no deadline to answer, but collection of the amount stays stopped
    until it is answered: a dispute left open is money no one collects.
    """
    from django.conf import settings

    return int(getattr(settings, "ARREARS_DISPUTE_DAYS", 30))


def disputes_overdue(*, on: date, days: int | None = None) -> list[OverdueDispute]:
    """Disputes open for more than `days` days on `on`: an answer is owed."""
    days = dispute_overdue_days() if days is None else days
    return [
        OverdueDispute(*row)
        for row in Dispute.objects.filter(status="open", opened_on__lt=on - timedelta(days=days))
        .order_by("opened_on", "id")
        .values_list("account_id", "id", "opened_on", "amount")
    ]


def dispute_get(*, dispute_id: int) -> Dispute:
    try:
        return Dispute.objects.select_related("account", "party").get(pk=dispute_id)
    except Dispute.DoesNotExist:
        raise NotFoundError(
            _("no dispute {dispute_id}"), code="dispute_not_found", dispute_id=dispute_id
        ) from None


def dispute_list(*, account_id: str) -> list[Dispute]:
    return list(Dispute.objects.filter(account__account_id=account_id).order_by("opened_on", "id"))


@dataclass
class Analysis:
    account_id: str
    unit: str
    property: str
    parties: list[dict[str, str]]
    start: date | None
    end: date
    opening_balance: Decimal
    lines: list[dict[str, Any]]
    closing_balance: Decimal
    buckets: list[str]
    aged: list[Decimal]
    credit: Decimal
    check: CheckResult
    rules: Rules
    disputes: list[dict[str, Any]] = field(default_factory=list)
    guarantor: dict[str, str | None] | None = None  # a guarantor's share, when asked for

    def period_totals(self) -> dict[str, Decimal]:
        sums: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for line in self.lines:
            sums[line["type"]] += line["amount"]
        return {k: sums[k] for k in TYPES}

    def as_json(self) -> dict[str, Any]:
        t = self.check.totals
        return {
            "account_id": self.account_id,
            "unit": self.unit,
            "property": self.property,
            "parties": self.parties,
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat(),
            "opening_balance": fmt(self.opening_balance),
            "entries": [_json_line(line) for line in self.lines],
            "period_totals": {k: fmt(v) for k, v in self.period_totals().items()},
            "closing_balance": fmt(self.closing_balance),
            "open_items": {
                "as_of": self.end.isoformat(),
                "buckets": {b: fmt(a) for b, a in zip(self.buckets, self.aged, strict=True)},
                "credit": fmt(self.credit),
            },
            "check": {
                "ok": self.check.ok,
                "recomputed": {
                    "charges": fmt(t.charges),
                    "payments": fmt(t.payments),
                    "credits": fmt(t.credits),
                    "reversals": fmt(t.reversals),
                    "refunds": fmt(t.refunds),
                    "balance": fmt(t.balance),
                },
                "book_balance": fmt(self.check.book_balance),
                "findings": [
                    {
                        "check": f.check,
                        "txn_id": f.txn_id,
                        "message": f.message,
                        "expected": None if f.expected is None else fmt(f.expected),
                        "actual": None if f.actual is None else fmt(f.actual),
                    }
                    for f in self.check.findings
                ],
                "rules": {
                    "policy": self.rules.policy,
                    "rent": None if self.rules.rent is None else fmt(self.rules.rent),
                    "known_codes": sorted(self.rules.known_codes),
                    "late_fees": [
                        {
                            "code": f.code,
                            "cap": _opt(f.cap(self.rules.rent)),
                            "not_before_days_past_due": f.days_past_due,
                            "law": f.law,
                        }
                        for f in self.rules.fees
                    ],
                },
            },
            "disputes": self.disputes,
            "guarantor": self.guarantor,
        }


def _opt(amount: Decimal | None) -> str | None:
    return None if amount is None else fmt(amount)


def _json_line(line: dict[str, Any]) -> dict[str, Any]:
    out = dict(line)
    for key in ("amount", "balance", "open", "unapplied"):
        if out.get(key) is not None:
            out[key] = fmt(out[key])
    for key in ("posted_on", "due_on", "reversed_on"):
        if out.get(key) is not None:
            out[key] = out[key].isoformat()
    for key in ("paid", "paid_by"):
        out[key] = [
            {"txn_id": p.txn_id, "amount": fmt(p.amount), "on": p.on.isoformat()}
            for p in out.get(key, [])
        ]
    return out


def account_analysis(
    *,
    account_id: str,
    end: date,
    rules: Rules,
    start: date | None = None,
    guarantor: str | None = None,
) -> Analysis:
    """The analysis of an account over [start, end]: every entry with what it paid or what paid
    it, the running balance, open items by bucket as of `end`, and the check of the figures (over
    every entry to `end`, so that a fee is checked against the rent it follows even when that
    rent is before the period). With `guarantor` (a guarantor's party id), the analysis adds
    that guarantor's share: the closing balance up to the guarantee's limit. Raises
    ValidationError when `start` is after `end` or `guarantor` does not guarantee the account."""
    if start is not None and start > end:
        raise ValidationError(
            _("the period starts on {start}, after it ends ({end})"),
            code="period_starts_after_end",
            start=start,
            end=end,
        )
    ledger = account_ledger(account_id=account_id, as_of=end)
    entries = _entries(ledger)
    items = open_items_as_of(as_of=end, account_pks=[ledger.account.pk])
    book_balance = sum((-i.amount if i.is_credit else i.amount for i in items), ZERO)
    check = check_figures(entries, rules, book_balance=book_balance)
    opening, lines = _analysis_lines(ledger, start, check)
    account = ledger.account
    disputes = _disputes_of(account)
    share = _guarantor_share(ledger, guarantor, account_id)
    return Analysis(
        account_id=account.account_id,
        unit=account.unit,
        property=account.property.name if account.property else "",
        parties=[
            {"party_id": ap.party.party_id, "name": ap.party.name, "role": ap.role}
            for ap in ledger.parties
        ],
        start=start,
        end=end,
        opening_balance=opening,
        lines=lines,
        closing_balance=ledger.balance,
        buckets=ledger.buckets.labels,
        aged=list(ledger.aged.buckets),
        credit=ledger.aged.credit,
        check=check,
        rules=rules,
        disputes=disputes,
        guarantor=share,
    )


def _entries(ledger: Any) -> list[Entry]:
    """The ledger's lines as the figures' check reads them."""
    return [
        Entry(
            line.txn_id,
            line.posted_on,
            line.type,
            line.code,
            line.amount,
            line.due_on,
            line.applies_to,
            tuple(Applied(p.txn_id, p.amount, p.on) for p in line.paid),
            tuple(Applied(p.txn_id, p.amount, p.on) for p in line.paid_by),
        )
        for line in ledger.lines
    ]


def _analysis_lines(
    ledger: Any, start: date | None, check: CheckResult
) -> tuple[Decimal, list[dict[str, Any]]]:
    """The opening balance at `start` and the analysis's lines from `start` on, each with the
    check's flags on it."""
    opening = ZERO
    lines = []
    for line in ledger.lines:
        if start is not None and line.posted_on < start:
            opening = line.balance
            continue
        lines.append(
            {
                "txn_id": line.txn_id,
                "posted_on": line.posted_on,
                "type": line.type,
                "code": line.code,
                "period": line.due_on.strftime("%Y-%m") if line.due_on else "",
                "due_on": line.due_on,
                "amount": line.amount,
                "balance": line.balance,
                "applies_to": line.applies_to,
                "reverses": line.reverses,
                "open": line.open_amount,
                "unapplied": line.unapplied,
                "reversed_on": line.reversed_on,
                "memo": line.memo,
                "paid": line.paid,
                "paid_by": line.paid_by,
                "flags": [f.check for f in check.findings if f.txn_id == line.txn_id],
            }
        )
    return opening, lines


def _disputes_of(account: Any) -> list[dict[str, Any]]:
    """The account's disputes, oldest first."""
    return [
        {
            "dispute_id": d.pk,
            "opened_on": d.opened_on.isoformat(),
            "status": d.status,
            "outcome": d.outcome,
            "amount": fmt(d.amount),
            "credited": fmt(d.credited),
            "reason": d.reason,
            "charges": [c.charge.txn_id for c in d.charges.all()],
        }
        for d in Dispute.objects.filter(account=account)
        .prefetch_related("charges__charge")
        .order_by("opened_on", "id")
    ]


def _guarantor_share(ledger: Any, guarantor: str | None, account_id: str) -> dict[str, Any] | None:
    """The guarantor's share of the closing balance (up to the guarantee's limit), or None
    without a guarantor; ValidationError when `guarantor` does not guarantee the account."""
    if guarantor is None:
        return None
    links = [ap for ap in ledger.parties if ap.role == "guarantor"]
    link = next((ap for ap in links if ap.party.party_id == guarantor), None)
    if link is None:
        raise ValidationError(
            _("{guarantor!r} does not guarantee account {account_id}"),
            code="not_a_guarantor",
            guarantor=guarantor,
            account_id=account_id,
        )
    limit = link.guarantee_limit
    owed = max(ZERO, ledger.balance)
    return {
        "party_id": guarantor,
        "name": link.party.name,
        "limit": None if limit is None else fmt(limit),
        "share": fmt(owed if limit is None else min(owed, limit)),
    }
