"""Writes of banking: a bank file imported (its credits matched and posted, its returns
reversed), and the review queue's decisions. Every payment is posted through the ledger's cash
application (`ledger.posting.payments_post`, `ledger.payments.payment_post`) with the bank's
reference as its reference, so a line can never post twice; every reversal through
`ledger.posting.reversals_post`.

Invariants: one file is one transaction (all or nothing); a file's bytes already imported add
nothing (all its lines count as already imported), and so does a line whose bank account and
reference are known; a line is decided once (`review` → `assigned` | `split` | `not_ours`);
every payment, reversal, fee, flag and decision on an account writes its timeline row in the
same transaction.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils.translation import gettext_lazy as _

from arrears.banking import formats, matching, returns
from arrears.banking.formats import BankLineIn
from arrears.banking.models import BankFile, BankLine
from arrears.banking.selectors import match_book
from arrears.core.dates import now
from arrears.core.errors import NotFoundError, ValidationError
from arrears.core.fields import to_cents
from arrears.ledger import bulk
from arrears.ledger.models import Account, TimelineEvent, Transaction
from arrears.ledger.payments import payment_post, txn_id_of
from arrears.ledger.posting import NewPayment, payments_post


@dataclass(frozen=True)
class ImportResult:
    file: str
    lines: int
    posted: int
    review: int
    returns: int
    already_imported: int

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "lines": self.lines,
            "posted": self.posted,
            "review": self.review,
            "returns": self.returns,
            "already_imported": self.already_imported,
        }


@dataclass
class _Row:
    """A line of the file being imported, as the matching and posting decide it."""

    line: BankLineIn
    status: str = BankLine.Status.REVIEW
    account_pk: int | None = None
    rule: str = ""
    confidence: Decimal | None = None
    txn_ids: list[str] = field(default_factory=list)
    note: str = ""


LINE_COLUMNS = (
    "file_id", "bank_account", "reference", "kind", "posted_on", "amount", "currency",
    "payer_name", "payer_account", "text", "original_reference", "end_to_end", "return_code",
    "status", "account_id", "rule", "confidence", "txn_ids", "decided_by", "decided_at", "note",
)  # fmt: skip


TIMELINE_COLUMNS = ("account_id", "at", "on", "kind", "actor", "summary", "detail")


def _line_values(file_pk: int, row: _Row) -> tuple[Any, ...]:
    ln, ops = row.line, connection.ops
    return (
        file_pk,
        ln.bank_account[:64],
        ln.reference[:120],
        ln.kind,
        ops.adapt_datefield_value(ln.posted_on),
        to_cents(ln.amount),
        ln.currency[:3],
        ln.payer_name[:200],
        ln.payer_account[:64],
        ln.text[:1000],
        ln.original_reference[:120],
        ln.extra.get("end_to_end", "")[:120],
        ln.return_code[:10],
        row.status,
        row.account_pk,
        row.rule,
        None if row.confidence is None else str(row.confidence),
        json.dumps(row.txn_ids),
        "",
        None,
        row.note[:500],
    )


def timeline_add(
    account_pk: int, on: date, kind: str, actor: str, summary: str, **detail: Any
) -> TimelineEvent:
    """An unsaved timeline row of the account `account_pk` (saved by the caller)."""
    return TimelineEvent(
        account_id=account_pk,
        at=now(),
        on=on,
        kind=kind,
        actor=actor,
        summary=summary[:500],
        detail=detail,
    )


def _match_and_post(rows: list[_Row], actor: str, today: date) -> tuple[int, list[tuple[Any, ...]]]:
    """Match the new credit lines; post those matched surely, in one posting; returns how many
    were posted and their timeline rows (unsaved). The others stay in review with the best
    suggestion."""
    if not rows:
        return 0, []
    book = match_book()
    rules = matching.rules_load()
    chosen: list[tuple[_Row, matching.Match]] = []
    for row in rows:
        ln = row.line
        found = matching.match_line(
            book, matching.LineFacts(ln.amount, ln.payer_name, ln.payer_account, ln.text), rules
        )
        if found is None:
            continue
        row.account_pk, row.rule, row.confidence = found.account_pk, found.rule, found.confidence
        if found.auto and ln.posted_on <= today:
            chosen.append((row, found))
    known = set(
        Transaction.objects.filter(
            txn_id__in=[txn_id_of(row.line.reference) for row, _m in chosen]
        ).values_list("txn_id", flat=True)
    )
    payments: list[NewPayment] = []
    events: list[tuple[Any, ...]] = []  # timeline rows, as TIMELINE_COLUMNS
    at = connection.ops.adapt_datetimefield_value(now())
    day = connection.ops.adapt_datefield_value
    for row, found in chosen:
        ln = row.line
        txn_id = txn_id_of(ln.reference)
        if txn_id in known:  # the reference was posted already (by hand, or an import)
            row.note = str(_("the reference was posted already: {txn_id}").format(txn_id=txn_id))
            continue
        known.add(txn_id)
        row.status = BankLine.Status.AUTO
        row.txn_ids = [txn_id]
        payments.append(
            NewPayment(
                txn_id=txn_id,
                account_pk=found.account_pk,
                posted_on=ln.posted_on,
                amount=ln.amount,
                reference=ln.reference,
                memo=ln.text[:200],
            )
        )
        events.append(
            (
                found.account_pk,
                at,
                day(ln.posted_on),
                "bank.payment",
                actor,
                f"Payment of {ln.amount:,.2f} from the bank ({ln.reference}),"
                f" matched by {found.rule}"[:500],
                json.dumps(
                    {
                        "reference": ln.reference,
                        "rule": found.rule,
                        "confidence": str(found.confidence),
                        "txn_id": txn_id,
                    }
                ),
            )
        )
    payments_post(payments)
    return len(payments), events


def bank_import(
    *, data: bytes, name: str, file_format: str, actor: str, today: date
) -> ImportResult:
    """Import the bank file `data` (named `name`) whole: its new credits matched and posted or
    queued for review, its returns reversed (module docstring). Raises BankFileError for a file
    that does not parse, PeriodClosedError for a payment dated in a closed month."""
    sha = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        before = BankFile.objects.filter(sha256=sha).first()
        if before is not None:
            lines = int(before.counts.get("lines", 0))
            return ImportResult(name, lines, 0, 0, 0, lines)
        fmt, parsed = formats.parse(data, file_format)
        f = BankFile.objects.create(name=name[:500], sha256=sha, file_format=fmt, imported_by=actor)
        keys = {(ln.bank_account[:64], ln.reference[:120]) for ln in parsed}
        known = set(
            BankLine.objects.filter(reference__in={ref for _acct, ref in keys}).values_list(
                "bank_account", "reference"
            )
        )
        rows: list[_Row] = []
        for ln in parsed:
            key = (ln.bank_account[:64], ln.reference[:120])
            if key in known:
                continue
            known.add(key)
            rows.append(_Row(ln))
        credits = [r for r in rows if r.line.kind == BankLine.Kind.CREDIT]
        posted, events = _match_and_post(credits, actor, today)
        # tens of thousands of rows: COPY (PostgreSQL) rather than bulk_create (measured in
        # bench/bank.py: bulk_create's model instances were half of a 100,000-line import)
        bulk.insert_rows(
            BankLine._meta.db_table, LINE_COLUMNS, (_line_values(f.pk, r) for r in rows)
        )
        bulk.insert_rows(TimelineEvent._meta.db_table, TIMELINE_COLUMNS, events)
        reversed_ = returns.returns_post(
            list(BankLine.objects.filter(file=f, kind=BankLine.Kind.RETURN).order_by("pk")),
            actor=actor,
            today=today,
        )
        review = BankLine.objects.filter(file=f, status=BankLine.Status.REVIEW).count()
        result = ImportResult(name, len(parsed), posted, review, reversed_, len(parsed) - len(rows))
        f.counts = result.as_json()
        f.save(update_fields=["counts"])
    return result


class LineDecidedError(ValidationError):
    """A line of the review queue decided already, or a decision that does not fit it (the
    API's 409: `bank_line_decided`, `bank_line_is_return`)."""


def _line_for_decision(line_id: int) -> BankLine:
    line = BankLine.objects.select_for_update().filter(pk=line_id).first()
    if line is None:
        raise NotFoundError(_("no bank line {line_id}"), line_id=line_id)
    if line.status != BankLine.Status.REVIEW:
        raise LineDecidedError(
            _("bank line {line_id} is decided already ({status})"),
            code="bank_line_decided",
            line_id=line_id,
            status=line.status,
        )
    return line


def _credit_only(line: BankLine) -> None:
    if line.kind != BankLine.Kind.CREDIT:
        raise LineDecidedError(
            _("bank line {line_id} is a return: it can only be marked not ours"),
            code="bank_line_is_return",
            line_id=line.pk,
        )


def review_assign(
    *, line_id: int, account: Account, actor: str, today: date, note: str = ""
) -> BankLine:
    """Post the review line `line_id` as a payment to `account` (reference: the bank's), and
    record the decision on the line and the account's timeline. Raises NotFoundError,
    LineDecidedError, and what `payment_post` raises (a reference posted to another account)."""
    with transaction.atomic():
        line = _line_for_decision(line_id)
        _credit_only(line)
        posted = payment_post(
            account=account,
            amount=line.amount,
            on=line.posted_on,
            reference=line.reference,
            today=today,
            memo=line.text[:200],
        )
        line.status = BankLine.Status.ASSIGNED
        line.account = account
        line.txn_ids = [posted.txn_id]
        _decided(line, actor, note)
        timeline_add(
            account.pk,
            today,
            "bank.assigned",
            actor,
            f"Bank payment of {line.amount:,.2f} ({line.reference}) assigned to this account",
            line=line.pk,
            reference=line.reference,
            txn_id=posted.txn_id,
            note=note,
        ).save()
    return line


def _decided(line: BankLine, actor: str, note: str) -> None:
    line.decided_by = actor[:150]
    line.decided_at = now()
    line.note = note[:500]
    line.save()


def review_split(
    *, line_id: int, parts: list[tuple[Account, Decimal]], actor: str, today: date, note: str = ""
) -> BankLine:
    """Post the review line `line_id` as payments to several accounts, the parts adding up to
    the line's amount exactly (references: the bank's with `#1`, `#2`, …). Raises
    ValidationError when they do not add up or an account comes twice."""
    with transaction.atomic():
        line = _line_for_decision(line_id)
        _credit_only(line)
        total = sum((amount for _a, amount in parts), Decimal("0"))
        accounts = [a.pk for a, _amount in parts]
        if len(parts) < 2 or total != line.amount or len(set(accounts)) != len(accounts):
            raise ValidationError(
                _(
                    "a split names two accounts or more, each once, whose amounts add up to"
                    " {amount}"
                    " (they add up to {total})"
                ),
                code="split_not_exact",
                amount=f"{line.amount:.2f}",
                total=f"{total:.2f}",
                field="parts",
            )
        txn_ids = []
        for i, (account, amount) in enumerate(parts, start=1):
            posted = payment_post(
                account=account,
                amount=amount,
                on=line.posted_on,
                reference=f"{line.reference}#{i}",
                today=today,
                memo=line.text[:200],
            )
            txn_ids.append(posted.txn_id)
            timeline_add(
                account.pk,
                today,
                "bank.split",
                actor,
                f"Part of a bank payment of {line.amount:,.2f} ({line.reference}):"
                f" {amount:,.2f} to this account",
                line=line.pk,
                reference=line.reference,
                txn_id=posted.txn_id,
                note=note,
            ).save()
        line.status = BankLine.Status.SPLIT
        line.txn_ids = txn_ids
        _decided(line, actor, note)
    return line


def review_not_ours(*, line_id: int, actor: str, note: str) -> BankLine:
    """Mark the review line `line_id` as money that is not the book's (a transfer, another
    company's tenant); `note` says why. Nothing is posted."""
    if not note.strip():
        raise ValidationError(_("say why the line is not ours"), code="note_missing", field="note")
    with transaction.atomic():
        line = _line_for_decision(line_id)
        line.status = BankLine.Status.NOT_OURS
        _decided(line, actor, note)
    return line
