"""The check of the figures of an account analysis. Pure: entries and rules in, findings out.

Each check reads the entries as the book holds them and says, line by line, what a tenant, an
attorney or a judge would question:

- `totals`: the balance recomputed from the entries (charges − payments − credits + reversals
  + refunds) against the balance of the open items the book derived by cash application;
- `rent`: a rent charge whose amount is not the lease's monthly rent;
- `duplicate`: a second charge with the same code, due date and amount;
- `late_fee_cap`: a late fee above the jurisdiction's cap: for New York the lesser of $50 and 5% of
  the monthly rent (NY RPL §238-a(2)); the cap comes from the policy's fee step, not from here;
- `late_fee_early`: a late fee posted before the rent it follows was late enough to allow one
  (NY RPL §238-a(2): not unless the rent is unpaid five days after its due date, the days counted
  by the policy: GCL §§20, 25-a for New York, through the rule's `first_day`);
- `order`: a payment that paid a charge while an older charge stayed open (spec:
  ledger-interchange, cash application pays the oldest due first);
- `code`: a charge code that the policy in force does not know.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from arrears.core.money import ZERO, fee_cap


@dataclass(frozen=True)
class FeeRule:
    """A policy's late-fee step: the fee is at most the lesser of `fixed` and `percent` of the
    monthly rent, and is not posted before `days_past_due` days after the rent's due date, or
    before `first_day(due date)` when the policy counts a grace period (its days carried over
    business days: the caller passes the calendar down)."""

    code: str = "LATE"
    fixed: Decimal | None = None
    percent_of_rent: Decimal | None = None
    days_past_due: int = 0
    law: str = ""
    rent_codes: tuple[str, ...] = ("RENT",)
    first_day: Callable[[date], date | None] | None = None

    def allowed_from(self, due_on: date) -> date:
        """The first day a fee may be posted for rent due on `due_on`."""
        first = self.first_day(due_on) if self.first_day is not None else None
        return first if first is not None else due_on + timedelta(days=self.days_past_due)

    def cap(self, rent: Decimal | None) -> Decimal | None:
        return fee_cap(self.fixed, self.percent_of_rent, rent)


@dataclass(frozen=True)
class Rules:
    """What the checks compare against: the lease and the policy in force."""

    rent: Decimal | None = None
    rent_code: str = "RENT"
    fees: tuple[FeeRule, ...] = ()
    known_codes: frozenset[str] = frozenset()  # empty: no policy, codes are not checked
    policy: str = ""


@dataclass(frozen=True)
class Applied:
    txn_id: str
    amount: Decimal
    on: date


@dataclass(frozen=True)
class Entry:
    txn_id: str
    posted_on: date
    type: str
    code: str
    amount: Decimal
    due_on: date | None = None
    applies_to: str = ""
    paid: tuple[Applied, ...] = ()  # for a payment or credit: the charges it paid
    paid_by: tuple[Applied, ...] = ()  # for a charge: what paid it


@dataclass(frozen=True)
class Finding:
    check: str
    txn_id: str
    message: str
    expected: Decimal | None = None
    actual: Decimal | None = None


@dataclass(frozen=True)
class Totals:
    charges: Decimal
    payments: Decimal
    credits: Decimal
    reversals: Decimal
    refunds: Decimal = ZERO

    @property
    def balance(self) -> Decimal:
        return self.charges - self.payments - self.credits + self.reversals + self.refunds


def totals_of(entries: Sequence[Entry]) -> Totals:
    sums: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for e in entries:
        sums[e.type] += e.amount
    return Totals(sums["charge"], sums["payment"], sums["credit"], sums["reversal"], sums["refund"])


@dataclass(frozen=True)
class CheckResult:
    totals: Totals
    book_balance: Decimal
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.findings


def check_figures(entries: Sequence[Entry], rules: Rules, *, book_balance: Decimal) -> CheckResult:
    """Every check over an account's entries (all of them, in book order); see the module doc."""
    totals = totals_of(entries)
    findings: list[Finding] = []
    if totals.balance != book_balance:
        findings.append(
            Finding(
                "totals",
                "",
                f"the entries add up to {totals.balance:.2f} but the open items to "
                f"{book_balance:.2f}",
                totals.balance,
                book_balance,
            )
        )
    charges = [e for e in entries if e.type == "charge"]
    findings += _rent(charges, rules)
    findings += _duplicates(charges)
    findings += _fees(charges, rules)
    findings += _order(entries)
    if rules.known_codes:
        findings += [
            Finding(
                "code",
                c.txn_id,
                f"charge code {c.code!r} is not one the policy "
                f"{rules.policy or 'in force'} knows ({', '.join(sorted(rules.known_codes))})",
            )
            for c in charges
            if c.code not in rules.known_codes
        ]
    return CheckResult(totals, book_balance, tuple(findings))


def _rent(charges: Sequence[Entry], rules: Rules) -> list[Finding]:
    if rules.rent is None:
        return []
    return [
        Finding(
            "rent",
            c.txn_id,
            f"rent charge of {c.amount:.2f} due {c.due_on} is not the "
            f"lease rent of {rules.rent:.2f}",
            rules.rent,
            c.amount,
        )
        for c in charges
        if c.code == rules.rent_code and c.amount != rules.rent
    ]


def _duplicates(charges: Sequence[Entry]) -> list[Finding]:
    seen: dict[tuple[str, date | None, Decimal], str] = {}
    out = []
    for c in charges:
        key = (c.code, c.due_on, c.amount)
        if key in seen:
            out.append(
                Finding(
                    "duplicate",
                    c.txn_id,
                    f"{c.code} {c.amount:.2f} due {c.due_on} is charged twice (also {seen[key]})",
                    None,
                    c.amount,
                )
            )
        else:
            seen[key] = c.txn_id
    return out


def _fees(charges: Sequence[Entry], rules: Rules) -> list[Finding]:
    out = []
    for rule in rules.fees:
        cap = rule.cap(rules.rent)
        rents = sorted(
            (c for c in charges if c.code in rule.rent_codes and c.due_on),
            key=lambda c: c.due_on or date.min,
        )
        law = f" ({rule.law})" if rule.law else ""
        for fee in (c for c in charges if c.code == rule.code):
            if cap is not None and fee.amount > cap:
                out.append(
                    Finding(
                        "late_fee_cap",
                        fee.txn_id,
                        f"late fee of {fee.amount:.2f} is above the cap "
                        f"of {cap:.2f} on a rent of {rules.rent or ZERO:.2f}{law}",
                        cap,
                        fee.amount,
                    )
                )
            before = [r for r in rents if r.due_on and r.due_on <= fee.posted_on]
            if not before:
                out.append(
                    Finding(
                        "late_fee_early",
                        fee.txn_id,
                        f"late fee posted {fee.posted_on} follows no rent charge",
                    )
                )
                continue
            rent = before[-1]
            assert rent.due_on is not None
            allowed = rule.allowed_from(rent.due_on)
            if fee.posted_on < allowed:
                why = (
                    f"the first day after the grace period for the rent due {rent.due_on}"
                    if rule.first_day is not None
                    else f"{rule.days_past_due} days after the rent due {rent.due_on}"
                )
                out.append(
                    Finding(
                        "late_fee_early",
                        fee.txn_id,
                        f"late fee posted {fee.posted_on}, before {allowed} ({why}){law}",
                    )
                )
    return out


def _order(entries: Sequence[Entry]) -> list[Finding]:
    """Payments that paid a charge on a day when an older charge (earlier due) stayed open."""
    charges = {e.txn_id: e for e in entries if e.type == "charge"}
    out = []
    for p in (e for e in entries if e.type == "payment"):
        for applied in p.paid:
            paid = charges.get(applied.txn_id)
            if paid is None or paid.due_on is None:
                continue
            older = [
                c
                for c in charges.values()
                if c.due_on is not None
                and c.due_on < paid.due_on
                and c.posted_on <= applied.on
                and _open_after(c, applied.on) > 0
            ]
            if older:
                first = min(older, key=lambda c: (c.due_on or date.min, c.posted_on))
                out.append(
                    Finding(
                        "order",
                        p.txn_id,
                        f"payment {p.txn_id} paid {applied.amount:.2f} of "
                        f"{paid.txn_id} (due {paid.due_on}) while {first.txn_id} (due "
                        f"{first.due_on}) stayed open",
                        None,
                        applied.amount,
                    )
                )
                break
    return out


def _open_after(charge: Entry, on: date) -> Decimal:
    return charge.amount - sum((a.amount for a in charge.paid_by if a.on <= on), ZERO)
