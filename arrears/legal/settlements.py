"""Writes of a case's money: settlements (offered, approved or rejected, paid or broken) and
write-offs to bad debt with the recoveries after them (docs/legal.md, "Settlements and
write-offs").

Invariants:
- a settlement is never above the balance it settles, its installments (none due before the day
  it is offered) sum to its amount exactly, and a case has one settlement in force (offered or
  approved) at a time;
- one above the approval threshold (`ARREARS_SETTLEMENT_APPROVAL_ABOVE`, default 0: every one)
  waits for a decision; the access layer says who decides (a manager of the property, a
  controller, an admin);
- once the payments booked after it was offered reach its amount, what is left of the balance it
  settled is forgiven by one `SETTLE` credit (txn_id `SET-<case>-<settlement>`, posted once:
  the book skips a txn_id it holds), the settlement is `paid` and an open case `satisfied`; an
  installment missed past its grace makes it `broken`, and the balance is owed in full again;
- a write-off is one `WO` credit (txn_id `WO-<account>-<n>`); a payment booked after it that
  leaves the account in credit is a recovery: a `WOR` charge of that much (up to what is still
  written off, txn_id `WO-<account>-<n>-r<m>`) is posted, which the payment pays, so the balance
  stays zero and the recovery is counted apart;
- each change is written with its timeline row in one transaction; bad input changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from arrears.core.errors import NotFoundError, ValidationError
from arrears.ledger.models import Account, OpenItem, TimelineEvent, Transaction
from arrears.ledger.periods import closed_through
from arrears.ledger.posting import NewCharge, NewCredit, charges_post, credits_post
from arrears.ledger.selectors import account_ledger
from arrears.legal import schedule
from arrears.legal.models import Referral, Settlement, SettlementInstallment, WriteOff
from arrears.legal.services import case_update

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_INSTALLMENTS = 36
TEXT_LIMIT = 500


def approval_threshold() -> Decimal:
    """The amount above which a settlement waits for approval (ARREARS_SETTLEMENT_APPROVAL_ABOVE;
    0, the default: every settlement)."""
    return Decimal(getattr(settings, "ARREARS_SETTLEMENT_APPROVAL_ABOVE", Decimal("0")))


def grace_days() -> int:
    """Days after an installment's due date before it is missed (ARREARS_SETTLEMENT_GRACE_DAYS)."""
    return int(getattr(settings, "ARREARS_SETTLEMENT_GRACE_DAYS", 5))


def _cents(value: Decimal) -> bool:
    return value.quantize(CENT) == value


def _book_position() -> int:
    """The book's last transaction id: payments booked after it count toward what is made now
    (the balance already holds the earlier ones), as a plan's and a promise's."""
    return Transaction.objects.order_by("-id").values_list("id", flat=True).first() or 0


def _account_locked(account_pk: int) -> Account:
    return Account.objects.select_for_update().get(pk=account_pk)


def _timeline(
    account: Account, on: date, kind: str, actor: str, summary: str, **detail: object
) -> TimelineEvent:
    return TimelineEvent.objects.create(
        account=account,
        at=timezone.now(),
        on=on,
        kind=kind,
        actor=actor,
        summary=summary[:500],
        detail=detail,
    )


# -- settlements ---------------------------------------------------------------------------------


def settlement_get(settlement_id: int) -> Settlement:
    """The settlement of that id, with its case and account; NotFoundError otherwise."""
    found = (
        Settlement.objects.select_related("case", "account", "account__property")
        .filter(pk=settlement_id)
        .first()
    )
    if found is None:
        raise NotFoundError(
            _("no settlement {settlement_id}"),
            code="settlement_unknown",
            settlement_id=settlement_id,
        )
    return found


def _checked_installments(
    installments: Sequence[schedule.Due], amount: Decimal, today: date
) -> list[schedule.Due]:
    if not installments:
        raise ValidationError(
            _("a settlement is paid in one installment or more (a due date and an amount)"),
            code="settlement_installments_missing",
            field="due",
        )
    if len(installments) > MAX_INSTALLMENTS:
        raise ValidationError(
            _("a settlement has {limit} installments at most"),
            code="settlement_installments_many",
            field="due",
            limit=MAX_INSTALLMENTS,
        )
    ordered = sorted(installments, key=lambda i: i.due_on)
    for n, item in enumerate(ordered, start=1):
        if item.amount <= 0 or not _cents(item.amount):
            raise ValidationError(
                _("installment {n}: an amount is positive, in cents at most: {amount}"),
                code="settlement_installment_amount",
                field="due",
                n=n,
                amount=str(item.amount),
            )
        if item.due_on < today:
            raise ValidationError(
                _("installment {n} is due on {due}, before today ({today})"),
                code="settlement_due_past",
                field="due",
                n=n,
                due=item.due_on.isoformat(),
                today=today.isoformat(),
            )
    total = sum((i.amount for i in ordered), ZERO)
    if total != amount:
        raise ValidationError(
            _("the installments sum to {total}, not to the settlement's {amount}"),
            code="settlement_installments_sum",
            field="due",
            total=f"{total:,.2f}",
            amount=f"{amount:,.2f}",
        )
    return ordered


def settlement_offer(
    *,
    case: Referral,
    amount: Decimal,
    installments: Sequence[schedule.Due],
    actor: str,
    today: date,
    note: str = "",
) -> Settlement:
    """Offer a settlement of the case's balance today: `amount` paid in `installments`.

    Above the approval threshold it is `offered` (a decision is awaited), else `approved` at
    once. Raises ValidationError for an ended case, an amount not above zero or above the
    balance, installments that do not sum to it or are due before today, or a settlement
    already in force on the case (and then nothing is written)."""
    if amount <= 0 or not _cents(amount):
        raise ValidationError(
            _("a settlement's amount is positive, in cents at most: {amount}"),
            code="settlement_amount",
            field="amount",
            amount=str(amount),
        )
    ordered = _checked_installments(installments, amount, today)
    note = " ".join(note.split())[:TEXT_LIMIT]
    threshold = approval_threshold()
    with transaction.atomic():
        account = _account_locked(case.account_id)
        case = Referral.objects.select_for_update().get(pk=case.pk)
        if case.withdrawn_on is not None:
            raise ValidationError(
                _("case {case_id} is {status} since {day}: it takes no settlement"),
                code="case_ended",
                case_id=case.pk,
                status=case.status,
                day=case.withdrawn_on,
            )
        balance = account_ledger(account_id=account.account_id, as_of=today).balance
        if amount > balance:
            raise ValidationError(
                _("a settlement of {amount} is above the balance owed ({balance})"),
                code="settlement_above_balance",
                field="amount",
                amount=f"{amount:,.2f}",
                balance=f"{balance:,.2f}",
            )
        pending = Settlement.objects.filter(case=case, status__in=["offered", "approved"]).first()
        if pending is not None:
            raise ValidationError(
                _("case {case_id} has settlement {settlement_id} in force ({status})"),
                code="settlement_exists",
                case_id=case.pk,
                settlement_id=pending.pk,
                status=pending.status,
            )
        needs = amount > threshold
        made = Settlement.objects.create(
            case=case,
            account=account,
            amount=amount,
            balance=balance,
            offered_on=today,
            offered_by=actor,
            note=note,
            book_position=_book_position(),
            grace_days=grace_days(),
            needs_approval=needs,
            status="offered" if needs else "approved",
            status_on=today,
        )
        SettlementInstallment.objects.bulk_create(
            SettlementInstallment(settlement=made, line=n, due_on=i.due_on, amount=i.amount)
            for n, i in enumerate(ordered, start=1)
        )
        plan = ", ".join(f"{i.amount:.2f} by {i.due_on:%Y-%m-%d}" for i in ordered)
        _timeline(
            account,
            today,
            "settlement.offered",
            actor,
            f"settlement {made.pk} of {amount:.2f} offered on a balance of {balance:.2f} "
            f"(case {case.pk}, {case.firm}): {plan}"
            + ("; to be approved" if needs else f"; at or below {threshold:.2f}, approved"),
            settlement=made.pk,
            case=case.pk,
            amount=f"{amount:.2f}",
            balance=f"{balance:.2f}",
            installments=[
                {"due_on": i.due_on.isoformat(), "amount": f"{i.amount:.2f}"} for i in ordered
            ],
            needs_approval=needs,
            note=note,
        )
    return made


def settlement_decide(
    *, settlement_id: int, approve: bool, actor: str, today: date, reason: str = ""
) -> Settlement:
    """Approve or reject a settlement offered (a rejection says why). An approved settlement is
    checked at once: payments made since it was offered count. ValidationError when it is not
    waiting for a decision, or a rejection gives no reason."""
    reason = " ".join(reason.split())[:TEXT_LIMIT]
    if not approve and not reason:
        raise ValidationError(
            _("a rejection says why"), code="settlement_reason_missing", field="reason"
        )
    with transaction.atomic():
        found = settlement_get(settlement_id)
        _account_locked(found.account_id)
        s = Settlement.objects.select_for_update().get(pk=found.pk)
        if s.status != "offered":
            raise ValidationError(
                _("settlement {settlement_id} is {status}: it is not waiting for a decision"),
                code="settlement_decided",
                settlement_id=s.pk,
                status=s.status,
            )
        s.status = "approved" if approve else "rejected"
        s.status_on = today
        s.decided_by = actor
        s.decided_at = timezone.now()
        s.reason = "" if approve else reason
        s.save(update_fields=["status", "status_on", "decided_by", "decided_at", "reason"])
        _timeline(
            found.account,
            today,
            f"settlement.{s.status}",
            actor,
            f"settlement {s.pk} of {s.amount:.2f} {s.status}" + (f": {reason}" if reason else ""),
            settlement=s.pk,
            case=s.case_id,
            reason=reason,
        )
        if approve:
            _review_one(s, today, actor)
    return settlement_get(settlement_id)


def settlement_tracking(s: Settlement, on: date) -> schedule.Tracking:
    """The settlement as of `on`: the payments booked after it was offered, against its
    installments."""
    dues = [schedule.Due(i.due_on, i.amount) for i in s.installments.order_by("line")]  # (few rows)
    return schedule.track(
        dues, _payments_after(s.account_id, s.book_position, on), on=on, grace_days=s.grace_days
    )


def _payments_after(account_pk: int, position: int, on: date) -> list[tuple[date, Decimal]]:
    """Payments of the account booked after `position` and posted by `on`, as (day, amount); a
    reversed payment counts as a negative one on the day of its reversal (a bounced check undoes
    what it paid)."""
    rows = Transaction.objects.filter(
        account_id=account_pk, id__gt=position, posted_on__lte=on
    ).filter(Q(type="payment") | Q(type="reversal", reverses__type="payment"))
    return [
        (day, amount if kind == "payment" else -amount)
        for kind, day, amount in rows.values_list("type", "posted_on", "amount")
    ]


def _review_one(s: Settlement, on: date, actor: str) -> str:
    """Settle what `on` decides of an approved settlement (its account locked by the caller):
    `paid` (the forgiven part credited), `broken`, or "" (still running)."""
    t = settlement_tracking(s, on)
    if t.paid != s.paid:
        s.paid = t.paid
        s.save(update_fields=["paid"])
    if t.broken and t.missed is not None:
        s.status, s.status_on = "broken", on
        s.reason = (
            f"the installment of {t.missed.amount:.2f} due {t.missed.due_on:%Y-%m-%d} was not "
            f"paid within {s.grace_days} days ({t.paid:.2f} paid in all)"
        )
        s.save(update_fields=["status", "status_on", "reason"])
        _timeline(
            s.account,
            on,
            "settlement.broken",
            actor,
            f"settlement {s.pk} of {s.amount:.2f} broken: {s.reason}; the balance is owed",
            settlement=s.pk,
            case=s.case_id,
            paid=f"{t.paid:.2f}",
        )
        return "broken"
    if not t.complete:
        return ""
    account = s.account
    balance = account_ledger(account_id=account.account_id, as_of=on, account=account).balance
    # What the settlement forgives: what is left of the balance it settled once its payments
    # are in, never more than is owed now (charges since are not its to forgive).
    forgiven = max(min(balance, s.balance - t.paid), ZERO)
    txn_id = f"SET-{s.case_id}-{s.pk}"
    if forgiven:
        credits_post(
            [
                NewCredit(
                    txn_id=txn_id,
                    account_pk=account.pk,
                    posted_on=on,
                    amount=forgiven,
                    code="SETTLE",
                    memo=f"settlement {s.pk} of case {s.case_id} paid ({t.paid:.2f}): "
                    f"the rest forgiven",
                )
            ]
        )
    s.status, s.status_on, s.forgiven = "paid", on, forgiven
    s.save(update_fields=["status", "status_on", "forgiven"])
    _timeline(
        account,
        on,
        "settlement.paid",
        actor,
        f"settlement {s.pk} of {s.amount:.2f} paid ({t.paid:.2f}); {forgiven:.2f} forgiven"
        + (f" (credit {txn_id})" if forgiven else ""),
        settlement=s.pk,
        case=s.case_id,
        paid=f"{t.paid:.2f}",
        forgiven=f"{forgiven:.2f}",
        txn_id=txn_id if forgiven else None,
    )
    case = Referral.objects.select_for_update().get(pk=s.case_id)
    if case.withdrawn_on is None and case.status != "satisfied":
        case_update(
            case=case,
            status="satisfied",
            on=on,
            actor=actor,
            today=on,
            note=f"settlement {s.pk} paid",
        )
    return "paid"


@dataclass(frozen=True)
class Reviewed:
    settlements_paid: int = 0
    settlements_broken: int = 0
    writeoff_recoveries: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "settlements_paid": self.settlements_paid,
            "settlements_broken": self.settlements_broken,
            "writeoff_recoveries": self.writeoff_recoveries,
        }


def money_review(*, on: date, actor: str, account_pks: Sequence[int] | None = None) -> Reviewed:
    """Settle what `on` decides (called by the daily run before it plans, and by `arrears
    settlement check`): approved settlements paid or broken, and payments after a write-off
    recovered. Each is done once; `account_pks` narrows it to those accounts."""
    paid = broken = recovered = 0
    pending = Settlement.objects.filter(status="approved", offered_on__lte=on)
    if account_pks is not None:
        pending = pending.filter(account_id__in=list(account_pks))
    for pk, account_pk in pending.order_by("account_id", "pk").values_list("pk", "account_id"):
        with transaction.atomic():
            _account_locked(account_pk)
            s = (
                Settlement.objects.select_for_update()
                .select_related("account")
                .filter(pk=pk, status="approved")
                .first()
            )
            if s is None:
                continue
            done = _review_one(s, on, actor)
            paid += done == "paid"
            broken += done == "broken"
    open_offs = WriteOff.objects.filter(recovered__lt=F("amount"), written_off_on__lte=on)
    if account_pks is not None:
        open_offs = open_offs.filter(account_id__in=list(account_pks))
    owing = set(open_offs.values_list("account_id", flat=True))
    # a recovery leaves the account in credit: only accounts with unapplied credit are read
    in_credit = OpenItem.objects.filter(account_id__in=owing, is_credit=True)
    for account_pk in sorted(set(in_credit.values_list("account_id", flat=True))):
        with transaction.atomic():
            recovered += _recover(_account_locked(account_pk), on, actor)
    return Reviewed(paid, broken, recovered)


# -- write-offs ----------------------------------------------------------------------------------


def _writeoff_prefix(account: Account, n: int) -> str:
    """`WO-<account>-<n>` where the account's id leaves room for a recovery's suffix in the
    book's 64 characters, else `WO-<key>-<n>`."""
    readable = f"WO-{account.account_id}-{n}"
    return readable if len(readable) <= 64 - len("-r999") else f"WO-{account.pk}-{n}"


def writeoff_post(
    *, account_id: str, amount: Decimal, reason: str, on: date, actor: str, today: date
) -> WriteOff:
    """Write `amount` of the account's balance off to bad debt on `on`: one `WO` credit.

    Raises ValidationError for an amount not above zero or above the balance (on `on` or now), a
    day after today or before the account opened, no reason; PeriodClosedError for a closed
    month (then nothing is written)."""
    reason = " ".join(reason.split())[:TEXT_LIMIT]
    if not reason:
        raise ValidationError(
            _("a write-off says why"), code="writeoff_reason_missing", field="reason"
        )
    if amount <= 0 or not _cents(amount):
        raise ValidationError(
            _("a write-off's amount is positive, in cents at most: {amount}"),
            code="writeoff_amount",
            field="amount",
            amount=str(amount),
        )
    if on > today:
        raise ValidationError(
            _("a write-off cannot be dated after today ({today})"),
            code="writeoff_date_ahead",
            field="on",
            today=today.isoformat(),
        )
    with transaction.atomic():
        account = Account.objects.select_for_update().filter(account_id=account_id).first()
        if account is None:
            raise NotFoundError(
                _("no account {account_id!r}"), code="account_not_found", account_id=account_id
            )
        if on < account.opened_on:
            raise ValidationError(
                _("a write-off cannot be dated before the account opened ({opened})"),
                code="writeoff_before_open",
                field="on",
                opened=account.opened_on.isoformat(),
            )
        owed = min(
            account_ledger(account_id=account_id, as_of=d, account=account).balance
            for d in {on, today}
        )
        if amount > owed:
            raise ValidationError(
                _("a write-off of {amount} is above the balance owed ({balance})"),
                code="writeoff_above_balance",
                field="amount",
                amount=f"{amount:,.2f}",
                balance=f"{max(owed, ZERO):,.2f}",
            )
        n = WriteOff.objects.filter(account=account).count() + 1
        txn_id = _writeoff_prefix(account, n)
        credits_post(
            [
                NewCredit(
                    txn_id=txn_id,
                    account_pk=account.pk,
                    posted_on=on,
                    amount=amount,
                    code="WO",
                    memo=f"written off to bad debt: {reason}"[:300],
                )
            ]
        )
        case = (
            Referral.objects.filter(account=account, withdrawn_on__isnull=True)
            .order_by("-referred_on", "-pk")
            .first()
        )
        made = WriteOff.objects.create(
            account=account,
            case=case,
            amount=amount,
            written_off_on=on,
            reason=reason,
            made_by=actor,
            made_at=timezone.now(),
            txn_id=txn_id,
            book_position=Transaction.objects.get(txn_id=txn_id).pk,
        )
        _timeline(
            account,
            on,
            "writeoff.posted",
            actor,
            f"{amount:.2f} written off to bad debt ({txn_id}): {reason}; still owed, a payment "
            "is a recovery",
            writeoff=made.pk,
            txn_id=txn_id,
            amount=f"{amount:.2f}",
            reason=reason,
        )
    return made


def _recover(account: Account, on: date, actor: str) -> int:
    """Recoveries after the account's write-offs (its row locked by the caller): the credit the
    payments booked since left, up to what is still written off, reinstated by `WOR` charges
    which those payments pay. Returns how many were posted."""
    offs = list(WriteOff.objects.filter(account=account, written_off_on__lte=on).order_by("pk"))
    outstanding = sum((w.amount - w.recovered for w in offs), ZERO)
    if not offs or outstanding <= 0:
        return 0
    balance = account_ledger(account_id=account.account_id, as_of=on, account=account).balance
    payments = _payments_after(account.pk, min(w.book_position for w in offs), on)
    available = sum((a for _d, a in payments), ZERO) - sum((w.recovered for w in offs), ZERO)
    left = min(-balance, outstanding, available)
    if left <= 0:
        return 0
    through = closed_through()
    last_paid = max(d for d, a in payments if a > 0)
    day = last_paid if through is None or last_paid > through else through + timedelta(days=1)
    charges, posted = [], 0
    for w in offs:
        share = min(left, w.amount - w.recovered)
        if share <= 0:
            continue
        m = Transaction.objects.filter(txn_id__startswith=f"{w.txn_id}-r").count() + 1
        charges.append(
            NewCharge(
                txn_id=f"{w.txn_id}-r{m}",
                account_pk=account.pk,
                posted_on=day,
                due_on=day,
                code="WOR",
                amount=share,
                memo=f"recovery after write-off {w.txn_id}",
            )
        )
        w.recovered += share
        w.save(update_fields=["recovered"])
        left -= share
        posted += 1
        _timeline(
            account,
            on,
            "writeoff.recovered",
            actor,
            f"{share:.2f} recovered after write-off {w.txn_id} ({w.recovered:.2f} of "
            f"{w.amount:.2f} recovered)",
            writeoff=w.pk,
            txn_id=f"{w.txn_id}-r{m}",
            amount=f"{share:.2f}",
        )
    charges_post(charges)
    return posted
