"""Proof of mailing from a filled-in manifest, and mail returned undeliverable.

Invariants: a manifest is recorded all or nothing; a certified article number is on one letter
only (unique); each letter mailed or returned writes its timeline row in the same transaction.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from django.db import IntegrityError, transaction
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from arrears.core.errors import NotFoundError, ValidationError
from arrears.correspondence.addresses import lines_key
from arrears.correspondence.certified import article_number_problem, normalize_article_number
from arrears.correspondence.models import Outbound, PrintBatch, ReturnedMail
from arrears.correspondence.outbound import LETTER_CHANNELS
from arrears.ledger.models import TimelineEvent


@dataclass
class MailedResult:
    mailed: int = 0
    unchanged: int = 0


@transaction.atomic
def letters_mailed(*, manifest: Path, mailed_on: date, actor: str) -> MailedResult:
    """Record proof of mailing from a filled-in manifest: each line's letter is mailed on
    `mailed_on` (or the line's `mailed_on`), with its certified article number.

    All or nothing: a bad line (unknown letter, a certified letter without a valid article
    number, a number already on another letter, a letter mailed with another number) raises
    ValidationError naming the file, line and column, and nothing is recorded. A line already
    recorded the same way is left as it is.
    """
    rows = _manifest_rows(manifest)
    plan, errors = _manifest_plan(manifest, rows, mailed_on)
    if errors:
        raise ValidationError("\n".join(errors[:20]), code="manifest_invalid", errors=errors)
    result = MailedResult(unchanged=len(rows) - len(plan))
    now = dj_timezone.now()
    for outbound, number, day in plan:
        _mailed(outbound, number=number, day=day, actor=actor, manifest=manifest, now=now)
        result.mailed += 1
    return result


Planned = tuple[Outbound, str, date]  # a letter to record mailed: its article number, its day


def _manifest_rows(manifest: Path) -> list[dict[str, str]]:
    """The manifest's lines; ValidationError when it cannot be read or has no letter_id."""
    try:
        with manifest.open(encoding="utf-8-sig", newline="") as stream:
            rows = list(csv.DictReader(stream))
    except OSError as exc:
        raise ValidationError(
            _("{manifest}: cannot read the manifest ({reason})"),
            code="manifest_unreadable",
            manifest=str(manifest),
            reason=exc.strerror,
        ) from None
    if rows and "letter_id" not in rows[0]:
        raise ValidationError(
            _("{manifest}: line 1: no letter_id column"),
            code="manifest_no_letter_id",
            manifest=str(manifest),
        )
    return rows


def _manifest_plan(
    manifest: Path, rows: list[dict[str, str]], mailed_on: date
) -> tuple[list[Planned], list[str]]:
    """The letters the manifest records mailed (locked), and what is wrong with its lines."""
    errors: list[str] = []
    plan: list[Planned] = []
    seen: dict[str, int] = {}
    ids = [(r.get("letter_id") or "").strip().lstrip("Ll") for r in rows]
    wanted = [int(i) for i in ids if i.isdigit()]
    letters = {o.pk: o for o in Outbound.objects.select_for_update().filter(pk__in=wanted)}
    # A letter of a batch not yet complete is in no print file: it is not printed yet.
    unfinished = set(PrintBatch.objects.filter(status="open").values_list("pk", flat=True))
    for line, row in enumerate(rows, start=2):
        where = f"{manifest}: line {line}"
        raw_id = (row.get("letter_id") or "").strip().lstrip("Ll")
        outbound = letters.get(int(raw_id)) if raw_id.isdigit() else None
        if outbound is None or outbound.channel not in LETTER_CHANNELS:
            errors.append(f"{where}, column letter_id: no letter {row.get('letter_id')!r}")
            continue
        planned = _line_plan(where, line, row, outbound, mailed_on, seen, unfinished)
        if isinstance(planned, str):
            errors.append(planned)
        elif planned is not None:
            plan.append(planned)
    taken = dict(
        Outbound.objects.filter(article_number__in=list(seen))
        .exclude(pk__in=[o.pk for o, _number, _day in plan])
        .values_list("article_number", "pk")
    )
    for outbound, number, _day in plan:
        if number in taken and taken[number] != outbound.pk:
            errors.append(
                f"{manifest}: article number {number} is already on letter L{taken[number]}"
            )
    return plan, errors


def _line_plan(
    where: str,
    line: int,
    row: dict[str, str],
    outbound: Outbound,
    mailed_on: date,
    seen: dict[str, int],
    unfinished: set[int],
) -> Planned | str | None:
    """One manifest line's letter to record mailed, what is wrong with the line (a str), or
    None when the letter is recorded mailed that way already. Notes the line's number in
    `seen`."""
    number = normalize_article_number(row.get("article_number") or "")
    day = mailed_on
    if (row.get("mailed_on") or "").strip():
        try:
            day = date.fromisoformat(row["mailed_on"].strip())
        except ValueError:
            return f"{where}, column mailed_on: not a date {row['mailed_on']!r}"
    if outbound.channel == "certified_letter" or number:
        problem = article_number_problem(number)
        if problem:
            return f"{where}, column article_number: {problem}"
    if number and number in seen:
        return f"{where}, column article_number: {number} is also on line {seen[number]}"
    if number:
        seen[number] = line
    if outbound.status in ("mailed", "returned"):
        if outbound.article_number != number:
            return (
                f"{where}, column article_number: letter L{outbound.pk} was "
                f"mailed with {outbound.article_number or 'no number'}"
            )
        return None
    if outbound.status != "rendered" or outbound.batch_id in unfinished:
        return f"{where}, column letter_id: letter L{outbound.pk} is not printed"
    return (outbound, number, day)


def _mailed(
    outbound: Outbound, *, number: str, day: date, actor: str, manifest: Path, now: datetime
) -> None:
    """Record one letter mailed on `day`, with its article number, and its timeline row."""
    outbound.status = "mailed"
    outbound.article_number = number
    outbound.mailed_on = day
    try:
        with transaction.atomic():
            outbound.save(update_fields=["status", "article_number", "mailed_on"])
    except IntegrityError:
        raise ValidationError(
            _("{manifest}: article number {number} is already used"),
            code="article_number_taken",
            manifest=str(manifest),
            number=number,
        ) from None
    how = f"certified mail {number}" if number else outbound.postage_class or "mail"
    TimelineEvent.objects.create(
        account_id=outbound.account_id,
        at=now,
        on=day,
        kind="letter.mailed",
        actor=actor,
        summary=f"{outbound.template} mailed by {how}",
        detail={
            "letter_id": outbound.pk,
            "key": outbound.key,
            "article_number": number,
            "postage_class": outbound.postage_class,
            "document": outbound.document_name,
        },
    )


@transaction.atomic
def mail_returned(*, letter: str, on: date, actor: str, reason: str = "") -> ReturnedMail:
    """Record a letter returned undeliverable (by letter id `L12`/`12` or article number): the
    letter is marked returned and its address bad for the party (the guard then refuses letters
    to it until the party's address changes). Raises NotFoundError, ValidationError."""
    outbound = _returnable(letter)
    assert outbound.party_id is not None  # _returnable refuses a letter without an addressee
    lines = outbound.address.split("\n")[1:]
    key = lines_key(lines)
    outbound.status = "returned"
    outbound.returned_on = on
    outbound.save(update_fields=["status", "returned_on"])
    now = dj_timezone.now()
    row = ReturnedMail.objects.create(
        party_id=outbound.party_id,
        account_id=outbound.account_id,
        outbound=outbound,
        address_key=key,
        address="\n".join(lines),
        returned_on=on,
        reason=reason,
        recorded_by=actor,
        recorded_at=now,
    )
    TimelineEvent.objects.create(
        account_id=outbound.account_id,
        at=now,
        on=on,
        kind="letter.returned",
        actor=actor,
        summary=f"{outbound.template} returned undeliverable"
        + (f" ({reason})" if reason else "")
        + "; the address is marked bad",
        detail={
            "letter_id": outbound.pk,
            "article_number": outbound.article_number,
            "address": "\n".join(lines),
            "reason": reason,
        },
    )
    return row


def _returnable(letter: str) -> Outbound:
    """The letter (locked) a return is recorded on: by letter id or article number, printed,
    with an addressee, not returned already. Raises NotFoundError, ValidationError."""
    text = letter.strip()
    number = normalize_article_number(text)
    query = Outbound.objects.select_for_update()
    if len(number) in (20, 22) and number.isdigit():
        outbound = query.filter(article_number=number).first()
    else:
        ident = text.lstrip("Ll")
        outbound = query.filter(pk=int(ident)).first() if ident.isdigit() else None
    if outbound is None or outbound.channel not in LETTER_CHANNELS:
        raise NotFoundError(_("no letter {letter!r}"), code="letter_not_found", letter=letter)
    if outbound.party_id is None:
        raise ValidationError(
            _("letter L{letter_id} has no addressee"),
            code="letter_no_addressee",
            letter_id=outbound.pk,
        )
    if outbound.status == "returned":
        raise ValidationError(
            _("letter L{letter_id} was already recorded returned on {returned_on}"),
            code="letter_already_returned",
            letter_id=outbound.pk,
            returned_on=str(outbound.returned_on),
        )
    if outbound.status not in ("mailed", "rendered"):
        raise ValidationError(
            _("letter L{letter_id} was never printed"),
            code="letter_not_printed",
            letter_id=outbound.pk,
        )
    return outbound
