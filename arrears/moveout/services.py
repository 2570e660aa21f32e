"""Move-out and the security deposit's disposition (docs/moveout.md says what each figure means).

- `moveout_record`: the day the tenants vacated and their forwarding address, which becomes the
  party's mailing address for everything after (N.Y. Gen. Oblig. Law §7-108(1-a)(e) sends the
  statement to the last known address).
- `disposition_post`: what is kept from the deposit and why, posted to the book as new entries
  (it stays insert-only): each deduction for work or costs the book does not hold yet (damage,
  cleaning, utilities, moving and storage, other) as a charge; the deposit and its interest as
  DEP credits, first one paying each of those charges, then one for the rest, which the ledger's
  cash application applies to what is owed (oldest first). After it the account owes a balance
  (`balance_owed`) or is owed a refund (`refund_due`): the book's balance says which.

Invariants: nothing is posted twice (each entry's txn_id names the account and the version:
`MO-<account>-v<version>-…`, and a version is made once); a correction supersedes the version
in force with its reason, undoing each of its entries first (its DEP credits reversed, its
deduction charges credited back), and both versions are kept; a disposition after the
statement's deadline is refused (rule `deposit:deadline`) unless the user gives a reason; in a
jurisdiction that asks for receipts, deductions for work without one are refused (rule
`deposit:receipt`). Bad input changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from arrears.core.errors import NotFoundError, ValidationError
from arrears.correspondence.contacts import party_update
from arrears.ledger.models import Account, AccountParty, TimelineEvent, Transaction
from arrears.ledger.posting import (
    NewCharge,
    NewCredit,
    NewReversal,
    charges_post,
    credits_post,
    reversals_post,
)
from arrears.ledger.selectors import account_get, account_ledger
from arrears.moveout.models import Deduction, Disposition, MoveOut
from arrears.moveout.rules import DepositRule, deposit_rule

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
TEXT_LIMIT = 300


@dataclass(frozen=True)
class Kind:
    """A deduction's code: what it is, the charge code it posts (None: the book holds the amount
    already, as charges of `ledger_codes`), and whether it is work (repairs, cleaning) for which
    a jurisdiction may ask receipts."""

    words: str
    posts: str | None = None
    ledger_codes: tuple[str, ...] = ()
    work: bool = False


DEDUCTIONS: dict[str, Kind] = {
    "rent": Kind("unpaid rent", ledger_codes=("RENT",)),
    "late_fee": Kind("late fees", ledger_codes=("LATE",)),
    "damage": Kind("damage beyond normal wear and tear", posts="DMG", work=True),
    "cleaning": Kind("cleaning", posts="CLN", work=True),
    "utilities": Kind("utilities", posts="UTIL"),
    "moving": Kind("moving and storage of belongings", posts="MOV"),
    "other": Kind("other", posts="OTH"),
}


class DepositRefusedError(ValidationError):
    """A disposition the deposit's rules refuse: `rule` names which (deposit:deadline,
    deposit:receipt, deposit:late_fee)."""

    code = "deposit_refused"


@dataclass(frozen=True)
class Deduct:
    """A deduction as asked: its code, amount and description, and its receipt (the bytes of a
    file and the file's name) if one goes with it."""

    code: str
    amount: Decimal
    text: str
    receipt: tuple[str, bytes] | None = None


@dataclass(frozen=True)
class DepositView:
    account_id: str
    deposit_held: Decimal
    vacated: date | None
    statement_due: date | None
    jurisdiction: str
    rule: DepositRule
    disposition: Disposition | None
    deductions: list[Deduction] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        d = self.disposition
        return {
            "account_id": self.account_id,
            "deposit_held": f"{self.deposit_held:.2f}",
            "vacated": self.vacated.isoformat() if self.vacated else None,
            "statement_due": self.statement_due.isoformat() if self.statement_due else None,
            "jurisdiction": self.jurisdiction,
            "disposition": None
            if d is None
            else {
                "deductions": [
                    {
                        "code": x.code,
                        "amount": f"{x.amount:.2f}",
                        "text": x.text,
                        "receipt": x.document.name if x.document is not None else None,
                    }
                    for x in self.deductions
                ],
                "applied": f"{d.applied:.2f}",
                "refund_due": f"{d.refund_due:.2f}",
                "balance_owed": f"{d.balance_owed:.2f}",
                "posted_on": d.posted_on.isoformat(),
            },
        }


def _account_locked(account_id: str) -> Account:
    """The account, with its property, locked for the caller's transaction (NotFoundError)."""
    account = (
        Account.objects.select_related("property")
        .select_for_update(of=("self",))
        .filter(account_id=account_id)
        .first()
    )
    if account is None:
        raise NotFoundError(
            _("no account {account_id!r}"), code="account_not_found", account_id=account_id
        )
    return account


def jurisdiction(account: Account) -> str:
    """The account's jurisdiction as the policies name it ("US-NY"; `dunning.policy`'s rule)."""
    prop = account.property
    if prop is None or not prop.country:
        return ""
    return f"{prop.country}-{prop.state.upper()}" if prop.state else prop.country


def statement_clock(account: Account, vacated: date) -> tuple[DepositRule, date]:
    """The deposit rule of the account's jurisdiction, and the day the itemized statement of a
    deposit vacated on `vacated` is due by (the rule's days after)."""
    rule = deposit_rule(jurisdiction(account))
    return rule, vacated + timedelta(days=rule.days)


def vacated_on(account: Account) -> date | None:
    """The day the tenants vacated: the move-out recorded, else the account's `closed` date."""
    move = MoveOut.objects.filter(account=account).first()
    return move.vacated_on if move is not None else account.closed_on


def deposit_show(*, account_id: str, account: Account | None = None) -> DepositView:
    """The deposit held, the move-out and its clock, and the disposition in force (`account`:
    the account `account_id` names, with its property, when the caller has it already)."""
    if account is None or account.account_id != account_id:
        account = account_get(account_id=account_id)
    vacated = vacated_on(account)
    rule = deposit_rule(jurisdiction(account))
    current = (
        Disposition.objects.filter(account=account, superseded_by__isnull=True)
        .order_by("-version")
        .first()
    )
    return DepositView(
        account_id=account.account_id,
        deposit_held=account.deposit_held or ZERO,
        vacated=vacated,
        statement_due=statement_clock(account, vacated)[1] if vacated else None,
        jurisdiction=jurisdiction(account),
        rule=rule,
        disposition=current,
        deductions=list(current.deductions.select_related("document").order_by("line"))
        if current
        else [],
    )


# -- move-out ------------------------------------------------------------------------------------


def forwarding_parts(text: str) -> dict[str, str]:
    """A forwarding address written on one line, "street[, unit], city, ST 12345", as the
    party's address fields; ValidationError naming the form otherwise."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    state, _space, postal = parts[-1].partition(" ") if parts else ("", "", "")
    if len(parts) < 3 or len(state) != 2 or not postal.strip():
        raise ValidationError(
            _(
                "a forwarding address is written “street, city, ST 12345” (the state's two "
                "letters, then the ZIP code): {text!r}"
            ),
            code="forwarding_address_form",
            field="forwarding_address",
            text=text[:200],
        )
    return {
        "address": ", ".join(parts[:-2]),
        "city": parts[-2],
        "state": state.upper(),
        "postal_code": postal.strip(),
    }


@transaction.atomic
def moveout_record(
    *,
    account_id: str,
    on: date,
    actor: str,
    forwarding_address: str = "",
    party_id: str = "",
    today: date,
) -> MoveOut:
    """Record that the account's tenants vacated on `on` (the deposit's clock starts), and their
    forwarding address as the mailing address of `party_id` (the primary tenant by default).
    Once: a second move-out of the account is refused, unless it says the same."""
    account = _account_locked(account_id)
    if on < account.opened_on:
        raise ValidationError(
            _("{on} is before the lease opened ({opened})"),
            code="moveout_before_opened",
            field="on",
            on=on.isoformat(),
            opened=account.opened_on.isoformat(),
        )
    if on > today:
        raise ValidationError(
            _("a move-out is recorded once it has happened: {on} is still to come"),
            code="moveout_in_future",
            field="on",
            on=on.isoformat(),
        )
    existing = MoveOut.objects.filter(account=account).first()
    if existing is not None:
        if existing.vacated_on == on and not forwarding_address:
            return existing
        raise ValidationError(
            _("{account_id} was recorded as vacated on {day} already"),
            code="moveout_recorded",
            account_id=account_id,
            day=existing.vacated_on.isoformat(),
        )
    links = AccountParty.objects.filter(account=account).select_related("party")
    link = (
        links.filter(party__party_id=party_id).first()
        if party_id
        else links.filter(role="primary").order_by("id").first()
    )
    if party_id and link is None:
        raise NotFoundError(
            _("{party_id} is not a party of {account_id}"),
            code="party_not_on_account",
            party_id=party_id,
            account_id=account_id,
        )
    party = link.party if link is not None else None
    if forwarding_address and party is not None:
        party_update(
            party_id=party.party_id,
            changes=forwarding_parts(forwarding_address),
            actor=actor,
            on=today,
        )
    if account.closed_on != on:
        # The account is moved out from that day: the policies' post-move-out track applies.
        account.closed_on = on
        account.save(update_fields=["closed_on"])
    move = MoveOut.objects.create(
        account=account,
        vacated_on=on,
        forwarding_address=forwarding_address.strip(),
        party=party if forwarding_address else None,
        recorded_by=actor,
        recorded_at=dj_timezone.now(),
    )
    rule, due = statement_clock(account, on)
    TimelineEvent.objects.create(
        account=account,
        at=move.recorded_at,
        on=today,
        kind="moveout.recorded",
        actor=actor,
        summary=(
            f"vacated on {on.isoformat()}; the deposit's itemized statement is due by "
            f"{due.isoformat()}" + (f" ({rule.law})" if rule.law else "")
        )[:500],
        detail={
            "vacated": on.isoformat(),
            "statement_due": due.isoformat(),
            "forwarding_address": move.forwarding_address,
            "party_id": party.party_id if move.party_id and party else None,
        },
    )
    return move


# -- disposition ---------------------------------------------------------------------------------


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def interest_owed(rule: DepositRule, deposit: Decimal, opened: date, vacated: date) -> Decimal:
    """Simple interest on the deposit at the rule's yearly rate, from the lease's opening to the
    day vacated (0 where the rule owes none)."""
    if not rule.interest_percent or not deposit:
        return ZERO
    days = max((vacated - opened).days, 0)
    return _money(deposit * rule.interest_percent / 100 * days / 365)


def _checked(
    deductions: Sequence[Deduct], rule: DepositRule, ledger: Any, deposit: Decimal
) -> list[Deduct]:
    """The deductions, checked: known codes, positive amounts, descriptions; an amount the book
    holds already not above what is open of it; late fees only where they may be kept; not more
    in all than the deposit and the balance."""
    out = []
    for n, d in enumerate(deductions, start=1):
        kind = DEDUCTIONS.get(d.code)
        if kind is None:
            raise ValidationError(
                _("deduction {n}: no deduction code {given!r} (one of {codes})"),
                code="deduction_code_unknown",
                field="deductions",
                n=n,
                given=d.code[:20],
                codes=", ".join(DEDUCTIONS),
            )
        if d.amount <= 0 or _money(d.amount) != d.amount:
            raise ValidationError(
                _("deduction {n}: an amount is positive, in cents at most: {amount}"),
                code="deduction_amount",
                field="deductions",
                n=n,
                amount=str(d.amount),
            )
        text = " ".join(d.text.split())[:TEXT_LIMIT]
        if not text:
            raise ValidationError(
                _("deduction {n}: say what it is for (a description)"),
                code="deduction_text_missing",
                field="deductions",
                n=n,
            )
        if d.code == "late_fee" and not rule.late_fees:
            raise DepositRefusedError(
                _("deduction {n}: late fees may not be kept from a deposit here ({law})"),
                code="deposit_late_fee",
                rule="deposit:late_fee",
                n=n,
                law=rule.law or rule.jurisdiction,
            )
        out.append(Deduct(d.code, d.amount, text, d.receipt))
    for code, kind in DEDUCTIONS.items():
        asked = sum((d.amount for d in out if d.code == code), ZERO)
        if kind.ledger_codes and asked:
            open_ = sum(
                (
                    line.open_amount or ZERO
                    for line in ledger.lines
                    if line.type == "charge" and line.code in kind.ledger_codes
                ),
                ZERO,
            )
            if asked > open_:
                raise ValidationError(
                    _("the {what} kept ({asked}) are more than the {open} the account owes"),
                    code="deduction_above_owed",
                    field="deductions",
                    what=kind.words,
                    asked=f"{asked:,.2f}",
                    open=f"{open_:,.2f}",
                )
    total = sum((d.amount for d in out), ZERO)
    ceiling = deposit + max(ledger.balance, ZERO)
    if total > ceiling:
        raise ValidationError(
            _(
                "the deductions ({total}) are more than the deposit and the balance together "
                "({ceiling})"
            ),
            code="deductions_above_deposit",
            field="deductions",
            total=f"{total:,.2f}",
            ceiling=f"{ceiling:,.2f}",
        )
    if rule.receipts_from is not None:
        work = [d for d in out if DEDUCTIONS[d.code].work]
        if sum((d.amount for d in work), ZERO) >= rule.receipts_from:
            missing = [str(n) for n, d in enumerate(out, start=1) if d in work and not d.receipt]
            if missing:
                raise DepositRefusedError(
                    _(
                        "deductions {lines}: repairs and cleaning of {floor} or more go with "
                        "their receipts, invoices or bills ({law})"
                    ),
                    code="deposit_receipt",
                    rule="deposit:receipt",
                    lines=", ".join(missing),
                    floor=f"{rule.receipts_from:,.2f}",
                    law=rule.law or rule.jurisdiction,
                )
    return out


@transaction.atomic
def disposition_post(
    *,
    account_id: str,
    deductions: Sequence[Deduct],
    on: date,
    actor: str,
    late_reason: str = "",
    correction_reason: str = "",
) -> DepositView:
    """Post the deposit's disposition on `on` (module docstring): DomainError for anything
    refused, and then nothing is written."""
    account = _account_locked(account_id)
    vacated = vacated_on(account)
    if vacated is None:
        raise ValidationError(
            _("{account_id} has no move-out: record the day the tenants vacated first"),
            code="moveout_missing",
            account_id=account_id,
        )
    if on < vacated:
        raise ValidationError(
            _("a disposition comes after the move-out ({vacated}), not on {on}"),
            code="disposition_before_moveout",
            field="on",
            vacated=vacated.isoformat(),
            on=on.isoformat(),
        )
    where = jurisdiction(account)
    rule, due = statement_clock(account, vacated)
    late_reason = " ".join(late_reason.split())[:500]
    correction_reason = " ".join(correction_reason.split())[:500]
    if on > due and not late_reason:
        forfeit = (
            _(" A landlord who misses it forfeits the right to keep any of the deposit.")
            if rule.forfeits
            else ""
        )
        raise DepositRefusedError(
            _(
                "the itemized statement was due by {due} ({law}), {days} days after the move-out"
                " on {vacated}; it is {on}.{forfeit} Give a reason to send it all the same."
            ),
            code="deposit_deadline",
            rule="deposit:deadline",
            due=due.isoformat(),
            law=rule.law or rule.jurisdiction,
            days=rule.days,
            vacated=vacated.isoformat(),
            on=on.isoformat(),
            forfeit=str(forfeit),
        )
    current = (
        Disposition.objects.select_for_update()
        .filter(account=account, superseded_by__isnull=True)
        .first()
    )
    if current is not None and not correction_reason:
        raise ValidationError(
            _(
                "{account_id}'s deposit was disposed of on {day} (version {version}); a "
                "correction says why"
            ),
            code="disposition_exists",
            account_id=account_id,
            day=current.posted_on.isoformat(),
            version=current.version,
        )
    deposit = account.deposit_held or ZERO
    ledger = account_ledger(account_id=account_id, as_of=on, account=account)
    if current is not None:
        _undo(current, on)
        ledger = account_ledger(account_id=account_id, as_of=on, account=account)
    checked = _checked(deductions, rule, ledger, deposit)
    interest = interest_owed(rule, deposit, account.opened_on, vacated)
    version = (current.version + 1) if current is not None else 1
    prefix = _prefix(account, version)
    now = dj_timezone.now()
    made = Disposition.objects.create(
        account=account,
        version=version,
        posted_on=on,
        deposit_held=deposit,
        interest=interest,
        applied=deposit + interest,
        refund_due=ZERO,
        balance_owed=ZERO,
        jurisdiction=where,
        statement_due=due,
        late_reason=late_reason if on > due else "",
        correction_reason=correction_reason,
        made_by=actor,
        made_at=now,
    )
    charges = [
        NewCharge(
            txn_id=f"{prefix}-c{n}",
            account_pk=account.pk,
            posted_on=on,
            due_on=on,
            code=DEDUCTIONS[d.code].posts or "",
            amount=d.amount,
            memo=f"deposit deduction: {d.text}"[:300],
        )
        for n, d in enumerate(checked, start=1)
        if DEDUCTIONS[d.code].posts
    ]
    charges_post(charges)
    posted = dict(
        Transaction.objects.filter(txn_id__in=[c.txn_id for c in charges]).values_list(
            "txn_id", "pk"
        )
    )
    left = deposit + interest
    credits = []
    for charge in charges:
        paid = min(left, charge.amount)
        if paid:
            credits.append(
                NewCredit(
                    txn_id=f"{charge.txn_id}-dep",
                    account_pk=account.pk,
                    posted_on=on,
                    amount=paid,
                    applies_to_pk=posted[charge.txn_id],
                    code="DEP",
                    memo=f"security deposit kept: {charge.memo.partition(': ')[2]}"[:300],
                )
            )
            left -= paid
    if left:
        credits.append(
            NewCredit(
                txn_id=f"{prefix}-dep",
                account_pk=account.pk,
                posted_on=on,
                amount=left,
                code="DEP",
                memo="security deposit applied"
                + (f" with {interest:.2f} of interest" if interest else ""),
            )
        )
    credits_post(credits)
    for n, d in enumerate(checked, start=1):
        Deduction.objects.create(
            disposition=made,
            line=n,
            code=d.code,
            amount=d.amount,
            text=d.text,
            document=_receipt(account, d, actor, on),
        )
    balance = account_ledger(account_id=account_id, as_of=on, account=account).balance
    made.balance_owed = max(balance, ZERO)
    made.refund_due = max(-balance, ZERO)
    made.save(update_fields=["balance_owed", "refund_due"])
    if current is not None:
        current.superseded_by = made
        current.save(update_fields=["superseded_by"])
    _disposed_event(made, checked, rule, now, actor, supersedes=current)
    return deposit_show(account_id=account_id)


def _prefix(account: Account, version: int) -> str:
    """The txn ids of a version's entries begin so: the account's id where the ids fit the
    book's 64 characters (`MO-A-NY-v1-c1`, `…-c1-dep`, `…-c1-dep-undo`), else its key."""
    readable = f"MO-{account.account_id}-v{version}"
    return readable if len(readable) <= 64 - len("-c99-dep-undo") else f"MO-{account.pk}-v{version}"


def _receipt(account: Account, d: Deduct, actor: str, on: date) -> Any:
    if d.receipt is None:
        return None
    from arrears.correspondence.uploads import document_add

    filename, data = d.receipt
    added = document_add(
        account_id=account.account_id,
        data=data,
        filename=filename,
        title=f"receipt: {d.text}",
        actor=actor,
        on=on,
    )
    return added.document


def _undo(current: Disposition, on: date) -> None:
    """Undo what a superseded version posted, on `on`: each of its DEP credits reversed (what it
    paid is unpaid again, as the interchange format's reversal says), each of its deduction
    charges credited back."""
    prefix = _prefix(current.account, current.version) + "-"
    entries = list(
        Transaction.objects.filter(account_id=current.account_id, txn_id__startswith=prefix)
        .exclude(txn_id__endswith="-undo")
        .order_by("id")
    )
    memo = f"disposition version {current.version} superseded"
    reversals_post(
        [
            NewReversal(
                txn_id=f"{t.txn_id}-undo",
                account_pk=t.account_id,
                posted_on=on,
                amount=t.amount,
                reverses_pk=t.pk,
                memo=memo,
            )
            for t in entries
            if t.type == "credit"
        ]
    )
    credits_post(
        [
            NewCredit(
                txn_id=f"{t.txn_id}-undo",
                account_pk=t.account_id,
                posted_on=on,
                amount=t.amount,
                applies_to_pk=t.pk,
                code=t.code,
                memo=memo,
            )
            for t in entries
            if t.type == "charge"
        ]
    )


def _disposed_event(
    made: Disposition,
    checked: list[Deduct],
    rule: DepositRule,
    now: Any,
    actor: str,
    *,
    supersedes: Disposition | None,
) -> None:
    result = (
        f"refund due {made.refund_due:,.2f}"
        if made.refund_due
        else f"balance owed {made.balance_owed:,.2f}"
    )
    kept = "; ".join(f"{d.code} {d.amount:,.2f} ({d.text})" for d in checked) or "nothing kept"
    summary = (
        f"deposit {made.deposit_held:,.2f} disposed of (version {made.version}): {kept}; {result}"
    )
    if made.late_reason:
        summary += f"; after the deadline of {made.statement_due.isoformat()}: {made.late_reason}"
    if supersedes is not None:
        summary += f"; corrects version {supersedes.version}: {made.correction_reason}"
    TimelineEvent.objects.create(
        account=made.account,
        at=now,
        on=made.posted_on,
        kind="deposit.disposed",
        actor=actor,
        summary=summary[:500],
        detail={
            "version": made.version,
            "deposit_held": f"{made.deposit_held:.2f}",
            "interest": f"{made.interest:.2f}",
            "deductions": [
                {"code": d.code, "amount": f"{d.amount:.2f}", "text": d.text} for d in checked
            ],
            "refund_due": f"{made.refund_due:.2f}",
            "balance_owed": f"{made.balance_owed:.2f}",
            "statement_due": made.statement_due.isoformat(),
            "late_reason": made.late_reason,
            "law": rule.law,
            "supersedes": supersedes.version if supersedes else None,
        },
    )
