"""Cash application: the pure replay of one account's entries (spec: ledger-interchange, Meaning).

`apply_cash` takes an account's entries in book order (posted date, then file order) and returns
what paid what and when, as plain records. It has no Django import and no clock.

Invariants (property-tested):
- every allocation's amount is positive, and at no time does a charge have more paid than its
  amount or a payment pay more than its amount;
- for every date D, the sum of the deltas on or before D of the charges (and refunds) less those of
  the credits equals charges − payments − credits + reversals + refunds of the entries posted on
  or before D;
- a refund pays no charge: it is paid out of unapplied credit, oldest credit first, as a charge
  would be, and is never larger than the unapplied credit on its date (RefundAboveCreditError).
  A reversal of a payment whose credit was refunded makes that part of the refund owed again
  (the spec's "every amount that payment paid … is unpaid again"), due on the refund's date;
- the result for the entries posted on or before D is the prefix of the full replay: a later entry
  never changes what happened before it.

Amounts may be Decimals or whole cents (ints, as the importer passes them): the replay only adds,
subtracts and compares.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import NamedTuple, TypeAlias

Amount: TypeAlias = Decimal | int

CHARGE = "charge"
PAYMENT = "payment"
CREDIT = "credit"
REVERSAL = "reversal"
REFUND = "refund"

# Every type of the interchange format (version 1.1) and its sign in the balance:
# Balance = charges − payments − credits + reversals + refunds.
TYPES = (CHARGE, PAYMENT, CREDIT, REVERSAL, REFUND)
SIGN = {CHARGE: 1, PAYMENT: -1, CREDIT: -1, REVERSAL: 1, REFUND: 1}
# The types that raise the balance (a debit) and those that lower it (receipts).
DEBITS = (CHARGE, REVERSAL, REFUND)
RECEIPTS = (PAYMENT, CREDIT)


class RefundAboveCreditError(ValueError):
    """A refund larger than the account's unapplied credit on its date."""

    def __init__(self, entry: int, amount: Amount, credit: Amount) -> None:
        super().__init__(f"entry {entry} refunds {amount} of an unapplied credit of {credit}")
        self.entry = entry
        self.amount = amount
        self.credit = credit

    def __reduce__(self) -> tuple[type[RefundAboveCreditError], tuple[int, Amount, Amount]]:
        # Raised in a replay's child process (replay_processes) and raised again in its parent.
        return (type(self), (self.entry, self.amount, self.credit))


class Entry(NamedTuple):  # tuples: a replay of the book builds millions of these
    """One transaction as cash application sees it. `id` is its place in file order."""

    id: int
    type: str
    posted_on: date
    amount: Amount
    due_on: date | None = None
    code: str = ""
    applies_to: int | None = None
    reverses: int | None = None


@dataclass(slots=True)
class Allocation:
    charge: int
    source: int
    amount: Amount
    made_on: date
    undone_on: date | None = None


class Delta(NamedTuple):
    """The open amount of `item` changed by `delta` on `on_date` (net of that day)."""

    item: int
    is_credit: bool
    due_on: date | None
    on_date: date
    delta: Amount


class OpenAmount(NamedTuple):
    item: int
    is_credit: bool
    due_on: date | None
    amount: Amount


@dataclass(slots=True)
class Replay:
    allocations: list[Allocation] = field(default_factory=list)
    deltas: list[Delta] = field(default_factory=list)
    open_items: list[OpenAmount] = field(default_factory=list)


class _State:
    """The running state of one account's replay."""

    def __init__(self, code_priority: Mapping[str, int]) -> None:
        self.code_priority = code_priority
        self.charges: dict[int, Entry] = {}
        self.open: dict[int, Amount] = {}  # charge id -> open amount (> 0)
        self.credit: dict[int, Amount] = {}  # payment/credit id -> unapplied (> 0), oldest first
        self.sources: dict[int, Entry] = {}
        self.live: dict[int, list[Allocation]] = {}  # source id -> its allocations not undone
        self.allocations: list[Allocation] = []
        self.net: dict[tuple[int, date], Amount] = {}

    def change(self, item: int, on: date, amount: Amount) -> None:
        key = (item, on)
        self.net[key] = self.net.get(key, 0) + amount  # dicts keep first-insertion order

    def charge_key(self, charge_id: int) -> tuple[date, date, int, int]:
        charge = self.charges[charge_id]
        assert charge.due_on is not None
        # Unlisted codes rank after every listed one; without a policy all rank alike.
        priority = self.code_priority.get(charge.code, len(self.code_priority))
        return (charge.due_on, charge.posted_on, priority, charge_id)

    def pay(self, charge_id: int, source_id: int, amount: Amount, on: date) -> None:
        allocation = Allocation(charge_id, source_id, amount, on)
        self.allocations.append(allocation)
        self.live.setdefault(source_id, []).append(allocation)
        left = self.open[charge_id] - amount
        if left:
            self.open[charge_id] = left
        else:
            del self.open[charge_id]
        self.change(charge_id, on, -amount)
        self.change(source_id, on, -amount)

    def pay_from_credit(self, charge_id: int, on: date) -> None:
        """The oldest unapplied credits pay `charge_id` as far as they reach."""
        for source_id in list(self.credit):
            if charge_id not in self.open:
                return
            available = self.credit[source_id]
            amount = min(available, self.open[charge_id])
            self.pay(charge_id, source_id, amount, on)
            if amount == available:
                del self.credit[source_id]
            else:
                self.credit[source_id] = available - amount

    def post_charge(self, entry: Entry) -> None:
        self.charges[entry.id] = entry
        self.open[entry.id] = entry.amount
        self.change(entry.id, entry.posted_on, entry.amount)
        if self.credit:
            self.pay_from_credit(entry.id, entry.posted_on)

    def post_refund(self, entry: Entry) -> None:
        """Pay a refund out of unapplied credit, oldest first: an item the credit pays at once,
        due on its own date (so that a reversal of its credit makes it owed again, and ages)."""
        available = sum(self.credit.values(), 0)
        if entry.amount > available:
            raise RefundAboveCreditError(entry.id, entry.amount, available)
        self.post_charge(entry._replace(due_on=entry.posted_on))

    def post_receipt(self, entry: Entry) -> None:
        self.sources[entry.id] = entry
        on = entry.posted_on
        left = entry.amount
        self.change(entry.id, on, left)
        if entry.applies_to is not None and entry.applies_to in self.open:
            amount = min(left, self.open[entry.applies_to])
            self.pay(entry.applies_to, entry.id, amount, on)
            left -= amount
        if left and self.open:
            for charge_id in sorted(self.open, key=self.charge_key):
                amount = min(left, self.open[charge_id])
                self.pay(charge_id, entry.id, amount, on)
                left -= amount
                if not left:
                    break
        if left:
            self.credit[entry.id] = left

    def post_reversal(self, entry: Entry) -> None:
        assert entry.reverses is not None
        on = entry.posted_on
        source_id = entry.reverses
        reopened: list[int] = []
        for allocation in self.live.pop(source_id, []):
            allocation.undone_on = on
            charge_id = allocation.charge
            self.open[charge_id] = self.open.get(charge_id, 0) + allocation.amount
            self.change(charge_id, on, allocation.amount)
            reopened.append(charge_id)
        remaining = self.credit.pop(source_id, 0)
        if remaining:
            self.change(source_id, on, -remaining)
        if self.credit:
            for charge_id in sorted(set(reopened), key=self.charge_key):
                self.pay_from_credit(charge_id, on)


def apply_cash(
    entries: Iterable[Entry], *, code_priority: Mapping[str, int] | None = None
) -> Replay:
    """Replay one account's entries, given in book order, and return what paid what and when.

    `code_priority` ranks charge codes for ties of due and posted date (lower pays first).
    Raises ValueError for an entry out of book order, an `applies_to` that is not an earlier
    charge of the account, or a reversal of something that is not an unreversed earlier payment
    or credit of the same amount; the importer checks these first and names the line. Raises
    RefundAboveCreditError (a ValueError) for a refund larger than the unapplied credit on its
    date, which the importer names with its line too.
    """
    state = _State(code_priority or {})
    last: tuple[date, int] | None = None
    reversed_ids: set[int] = set()
    for entry in entries:
        here = (entry.posted_on, entry.id)
        if last is not None and here <= last:
            raise ValueError(f"entry {entry.id} is out of book order")
        last = here
        if entry.type == CHARGE:
            state.post_charge(entry)
        elif entry.type == REFUND:
            state.post_refund(entry)
        elif entry.type in RECEIPTS:
            named = state.charges.get(entry.applies_to) if entry.applies_to is not None else None
            if entry.applies_to is not None and (named is None or named.type != CHARGE):
                raise ValueError(f"entry {entry.id} applies to {entry.applies_to}, no such charge")
            state.post_receipt(entry)
        elif entry.type == REVERSAL:
            source = state.sources.get(entry.reverses) if entry.reverses is not None else None
            if source is None or entry.reverses in reversed_ids:
                raise ValueError(f"entry {entry.id} reverses {entry.reverses}, not reversible")
            if source.amount != entry.amount:
                raise ValueError(f"entry {entry.id} reverses {source.amount} with {entry.amount}")
            reversed_ids.add(source.id)
            state.post_reversal(entry)
        else:
            raise ValueError(f"entry {entry.id} has unknown type {entry.type!r}")

    replay = Replay(allocations=state.allocations)
    for (item, on), amount in state.net.items():
        if amount:
            charge = state.charges.get(item)
            replay.deltas.append(
                Delta(item, charge is None, charge.due_on if charge else None, on, amount)
            )
    for charge_id, amount in state.open.items():
        replay.open_items.append(
            OpenAmount(charge_id, False, state.charges[charge_id].due_on, amount)
        )
    for source_id, amount in state.credit.items():
        replay.open_items.append(OpenAmount(source_id, True, None, amount))
    return replay
