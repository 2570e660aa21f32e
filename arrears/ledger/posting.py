"""Writes to the book outside an import: charges (the daily run's fees), credits (a dispute
upheld, a fee waived) and refunds (credit paid back) posted as new entries, and the lock a
decision on accounts takes.

Invariants: an entry is only appended (ids in book order, after the book's write lock), one whose
txn_id the book holds is skipped, so that posting is idempotent; nothing is dated in a closed
month (`periods.ensure_open`); cash application of the accounts posted to is brought up to date
in the same transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from arrears.core.errors import ValidationError
from arrears.core.fields import from_cents
from arrears.ledger import bulk
from arrears.ledger.allocation import RefundAboveCreditError as ReplayRefundError
from arrears.ledger.models import (
    Account,
    OpenItem,
    Transaction,
)
from arrears.ledger.periods import ensure_open
from arrears.ledger.replay import BOOK_COLUMNS, TXN, accounts_replay, write_derived


def book_lock(*, lo: int, hi: int) -> None:
    """Inside the caller's transaction, lock the book for a decision on accounts `lo`..`hi` (by
    key), so that what the caller reads next is the book as committed and stays so until it
    commits what it decided (the daily run's chunk: no fee on an account an import paid).

    Every writer takes its locks in this order, so none waits on another in a circle. PostgreSQL:
    the transactions table in ROW EXCLUSIVE mode, which an import's SHARE ROW EXCLUSIVE lock
    (taken first, held to its commit) excludes, so an import in progress is waited for and an
    import starting waits; then the accounts' rows in key order, FOR UPDATE, which a payment
    posted meanwhile waits on (its reference to the account). SQLite: the database's one write
    lock, now rather than at the first write, so nothing commits between the reads and the writes
    (SQLite serialises writers; an import takes the same lock first).
    """
    if not bulk.is_postgres():
        bulk.write_lock(TXN)
        return
    bulk.execute(f"LOCK TABLE {TXN} IN ROW EXCLUSIVE MODE")
    list(
        Account.objects.select_for_update()
        .filter(pk__gte=lo, pk__lte=hi)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@dataclass(frozen=True)
class NewCharge:
    txn_id: str
    account_pk: int
    posted_on: date
    due_on: date
    code: str
    amount: Decimal
    memo: str = ""
    reference: str = ""


def charges_post(charges: list[NewCharge]) -> int:
    """Post charges (late fees and the like) and re-apply cash on their accounts.

    Must run inside the caller's transaction; returns how many were posted. A charge whose txn_id
    is already in the book is skipped, so that posting is idempotent.
    """
    base, fresh = _append_new(
        charges,
        gettext_lazy("a charge"),
        lambda c: (
            c.txn_id,
            c.account_pk,
            c.posted_on.isoformat(),
            "charge",
            int(c.amount * 100),
            c.code,
            c.due_on.isoformat(),
            None,
            None,
            c.reference,
            c.memo,
            None,
        ),
    )
    if not fresh:
        return 0
    _apply_new_charges(base, fresh)
    return len(fresh)


def _append_new(
    entries: list[Any], what: str | Promise, row: Callable[[Any], tuple[Any, ...]]
) -> tuple[int, list[Any]]:
    """Append the entries (each with a txn_id) not yet in the book after its last one, in order;
    returns the id before the first and the entries appended. `row` gives an entry's columns
    after the id (BOOK_COLUMNS). Runs inside the caller's transaction.

    Raises PeriodClosedError when an entry is dated in a closed month (`what` names it)."""
    if not entries:
        return 0, []
    existing = set(
        Transaction.objects.filter(txn_id__in=[e.txn_id for e in entries]).values_list(
            "txn_id", flat=True
        )
    )
    fresh = [e for e in entries if e.txn_id not in existing]
    if not fresh:
        return 0, []
    bulk.append_lock(TXN)  # ids in book order, and no import or month closing meanwhile
    ensure_open((e.posted_on for e in fresh), what=what)
    base = int(bulk.execute(f"SELECT COALESCE(MAX(id), 0) FROM {TXN}")[0][0])
    bulk.insert_rows(TXN, BOOK_COLUMNS, ((base + i, *row(e)) for i, e in enumerate(fresh, 1)))
    return base, fresh


def _apply_new_charges(base: int, fresh: list[NewCharge]) -> None:
    """Apply cash for newly posted charges.

    An account whose new charges come after everything already on it (the usual case: today's
    fee) needs no replay: each charge is paid at once by the oldest unapplied credit, exactly as
    the replay would do it, and the open items change in place. Any other account is replayed.
    """
    accounts = {c.account_pk for c in fresh}
    last_before = dict(
        Transaction.objects.filter(account_id__in=accounts, id__lte=base)
        .values("account_id")
        .annotate(last=Max("posted_on"))
        .values_list("account_id", "last")
    )
    first_new: dict[int, date] = {}
    for c in fresh:
        first_new[c.account_pk] = min(first_new.get(c.account_pk, c.posted_on), c.posted_on)
    replay = {pk for pk in accounts if last_before.get(pk) and last_before[pk] > first_new[pk]}
    append = accounts - replay
    credit: dict[int, list[list[int]]] = defaultdict(list)  # account -> [[source id, cents]]
    for pk, item, amount in (
        OpenItem.objects.filter(account_id__in=append, is_credit=True)
        .order_by("account_id", "item__posted_on", "item_id")
        .values_list("account_id", "item_id", "amount")
    ):
        credit[pk].append([item, int(amount * 100)])
    allocations: list[tuple[Any, ...]] = []
    deltas: list[tuple[Any, ...]] = []
    opened: list[tuple[Any, ...]] = []
    for i, c in enumerate(fresh, start=1):
        if c.account_pk not in append:
            continue
        charge_id, left, on = base + i, int(c.amount * 100), c.posted_on
        deltas.append((c.account_pk, charge_id, False, c.due_on, on, left))
        for source in credit[c.account_pk]:
            if not left or not source[1]:
                continue
            paid = min(left, source[1])
            source[1] -= paid
            left -= paid
            allocations.append((c.account_pk, charge_id, source[0], paid, on, None))
            deltas.append((c.account_pk, charge_id, False, c.due_on, on, -paid))
            deltas.append((c.account_pk, source[0], True, None, on, -paid))
        if left:
            opened.append((c.account_pk, charge_id, False, c.due_on, left))
    sources = [source for listed in credit.values() for source in listed]
    OpenItem.objects.filter(item_id__in=[item for item, cents in sources if not cents]).delete()
    for item, cents in sources:
        if cents:
            OpenItem.objects.filter(item_id=item).update(amount=from_cents(cents))
    write_derived(allocations, deltas, opened)
    if replay:
        accounts_replay(replay)


@dataclass(frozen=True)
class NewCredit:
    """A credit against a charge (a dispute upheld, a fee waived): a new entry, never an edit."""

    txn_id: str
    account_pk: int
    posted_on: date
    amount: Decimal
    applies_to_pk: int | None = None
    code: str = ""
    memo: str = ""
    reference: str = ""


def credits_post(credits: list[NewCredit]) -> int:
    """Post credits and replay cash application on their accounts.

    Must run inside the caller's transaction; returns how many were posted. A credit whose txn_id
    is already in the book is skipped (idempotent). A credit names the charge it pays first
    (`applies_to`, spec: ledger-interchange); what it does not need there is unapplied credit.
    """
    return _applied_post(credits, "credit", gettext_lazy("a credit"))


def _applied_post(entries: list[Any], kind: str, what: str | Promise) -> int:
    """Append entries that pay charges (credits, payments: `kind`) and replay cash application
    on their accounts; `what` names one in a refusal (a closed month)."""
    _, fresh = _append_new(
        entries,
        what,
        lambda e: (
            e.txn_id,
            e.account_pk,
            e.posted_on.isoformat(),
            kind,
            int(e.amount * 100),
            e.code,
            None,
            e.applies_to_pk,
            None,
            e.reference,
            e.memo,
            None,
        ),
    )
    if not fresh:
        return 0
    accounts_replay({e.account_pk for e in fresh})
    return len(fresh)


@dataclass(frozen=True)
class NewPayment:
    """A payment posted by a person or a system (`ledger.payments.payment_post`), not imported."""

    txn_id: str
    account_pk: int
    posted_on: date
    amount: Decimal
    applies_to_pk: int | None = None
    code: str = ""
    memo: str = ""
    reference: str = ""


def payments_post(payments: list[NewPayment]) -> int:
    """Post payments and replay cash application on their accounts; as `credits_post` (inside
    the caller's transaction, idempotent by txn_id), returns how many were posted."""
    return _applied_post(payments, "payment", gettext_lazy("a payment"))


@dataclass(frozen=True)
class NewRefund:
    """Money paid back to the debtor out of unapplied credit (interchange format 1.1, `refund`):
    it pays no charge, and is never larger than the credit on its date."""

    txn_id: str
    account_pk: int
    posted_on: date
    amount: Decimal
    code: str = ""
    memo: str = ""
    reference: str = ""


class RefundAboveCreditError(ValidationError):
    """A refund larger than the unapplied credit it would pay out: a refusal by the state of the
    book (the API's 409), not a mistake in the request."""

    code = "refund_above_credit"


def refunds_post(refunds: list[NewRefund]) -> int:
    """Post refunds and replay cash application on their accounts: each is paid out of the
    account's unapplied credit, oldest first.

    Must run inside the caller's transaction; returns how many were posted. A refund whose txn_id
    is already in the book is skipped (idempotent). Raises RefundAboveCreditError (and posts
    none of them) when one is larger than the unapplied credit on its date.
    """
    with transaction.atomic():  # a refused refund leaves no row, even for a caller that goes on
        _, fresh = _append_new(
            refunds,
            gettext_lazy("a refund"),
            lambda r: (
                r.txn_id,
                r.account_pk,
                r.posted_on.isoformat(),
                "refund",
                int(r.amount * 100),
                r.code,
                None,
                None,
                None,
                r.reference,
                r.memo,
                None,
            ),
        )
        if not fresh:
            return 0
        try:
            accounts_replay({r.account_pk for r in fresh})
        except ReplayRefundError as exc:
            refused = Transaction.objects.select_related("account").get(pk=exc.entry)
            raise RefundAboveCreditError(
                gettext_lazy(
                    "a refund of {amount} on {on} is larger than the unapplied credit of "
                    "{account_id} on that day ({credit})"
                ),
                code="refund_above_credit",
                field="amount",
                txn_id=refused.txn_id,
                account_id=refused.account.account_id,
                on=refused.posted_on.isoformat(),
                amount=f"{from_cents(int(exc.amount)):,.2f}",
                credit=f"{from_cents(int(exc.credit)):,.2f}",
            ) from None
    return len(fresh)


@dataclass(frozen=True)
class NewReversal:
    """The undoing of an earlier payment or credit (interchange format, `reversal`): its amount,
    naming what it reverses; what that paid is unpaid again."""

    txn_id: str
    account_pk: int
    posted_on: date
    amount: Decimal
    reverses_pk: int
    memo: str = ""
    reference: str = ""


def reversals_post(reversals: list[NewReversal]) -> int:
    """Post reversals and replay cash application on their accounts.

    Must run inside the caller's transaction; returns how many were posted. A reversal whose
    txn_id is already in the book is skipped (idempotent). The replay refuses (ValueError) one
    that does not reverse an unreversed earlier payment or credit of the same amount."""
    _, fresh = _append_new(
        reversals,
        gettext_lazy("a reversal"),
        lambda r: (
            r.txn_id,
            r.account_pk,
            r.posted_on.isoformat(),
            "reversal",
            int(r.amount * 100),
            "",
            None,
            None,
            r.reverses_pk,
            r.reference,
            r.memo,
            None,
        ),
    )
    if not fresh:
        return 0
    accounts_replay({r.account_pk for r in fresh})
    return len(fresh)
