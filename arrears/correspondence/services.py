"""Writes of correspondence: outbound letters and emails queued by the run, the letters batch,
proof of mailing, returned mail, and company templates.

Invariants: an outbound row has its action's idempotency key (unique), so queuing, rendering and
mailing each happen once per action however often they are repeated; every change of an
outbound letter writes a timeline row in the same transaction; an archived document is never
overwritten (archive.py).
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone as dj_timezone

from arrears.core.cells import safe_cell
from arrears.core.errors import NotFoundError, ValidationError
from arrears.core.fields import to_cents
from arrears.correspondence.addresses import lines_key
from arrears.correspondence.archive import archive_store, sha256_of
from arrears.correspondence.catalog import CATALOG, LANGUAGES, spec_for
from arrears.correspondence.certified import article_number_problem, normalize_article_number
from arrears.correspondence.models import Document, Outbound, PrintBatch, ReturnedMail, Template
from arrears.correspondence.rendering import (
    RenderedMessage,
    missing_fields,
    render_with,
    template_load,
)
from arrears.correspondence.selectors import letters_for_batch, outbound_contexts
from arrears.ledger import bulk
from arrears.ledger.models import Account, Party, TimelineEvent

LETTER_CHANNELS = ("letter", "certified_letter")
OUTBOUND_CHANNELS = (*LETTER_CHANNELS, "email")
POSTAGE = {"certified_letter": "Certified Mail", "letter": "First-Class Mail"}
BATCH_CHUNK = 16  # letters per task of a worker process


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:60] or "x"


def document_name(
    *, key: str, channel: str, run_on: date, account_id: str, step: str, party_id: str
) -> str:
    """The archive name of the document an outbound action produces, known before rendering:
    letters/2026/03/06/A-1-late-notice-P-1-<hash of the key>.pdf (emails: email/….eml)."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:10]
    folder, ext = ("letters", "pdf") if channel in LETTER_CHANNELS else ("email", "eml")
    return (
        f"{folder}/{run_on:%Y/%m/%d}/{_safe(account_id)}-{_safe(step)}-{_safe(party_id)}-"
        f"{digest}.{ext}"
    )


def outbound_create_many(actions: Iterable[Any], *, insert: bool = True) -> dict[str, str]:
    """Queue an outbound letter or email for each queued letter/email action; returns the
    document name (archive path) of each, by the action's key.

    `actions` are the run's new actions (objects with key, account, party, role, channel,
    template, language, policy, step, run_on, amount, deadline, delinquency, status, and
    optionally charge: the txn id of the charge a per-charge step is about); others
    (fees, calls, refusals) are skipped. Inserted in bulk in the caller's transaction; a key
    already queued is an IntegrityError (the run never asks twice for one key). insert=False
    (a dry run) only names the documents.
    """
    from django.db import connection

    now = dj_timezone.now()
    # Plain tuples, not model instances: the run queues up to one row per account and party, and
    # preparing instances field by field would cost more than the insert itself.
    fields = {f.name: f for f in Outbound._meta.concrete_fields}
    created = fields["created_at"].get_db_prep_save(now, connection)
    no_detail = fields["detail"].get_db_prep_save({}, connection)
    rows = []
    names: dict[str, str] = {}
    for a in actions:
        if a.status != "queued" or a.channel not in OUTBOUND_CHANNELS:
            continue
        party = a.party
        party_id = party.party_id if party is not None else ""
        name = document_name(
            key=a.key,
            channel=a.channel,
            run_on=a.run_on,
            account_id=a.account.account_id,
            step=a.step or a.template,
            party_id=party_id,
        )
        names[a.key] = name
        email = party.email if party is not None and a.channel == "email" else ""
        rows.append(
            (
                a.key,
                a.account.pk,
                party.pk if party is not None else None,
                a.role or "",
                a.channel,
                a.template,
                a.language or "en",
                a.policy or "",
                a.step or "",
                a.run_on,
                None if a.amount is None else to_cents(a.amount),
                a.deadline,
                a.delinquency,
                "queued",
                name,
                "",
                POSTAGE.get(a.channel, ""),
                "",
                "",
                email,
                0,
                "",
                created,
                _charge_detail(fields["detail"], connection, a) or no_detail,
            )
        )
    if insert and rows:
        columns = [
            "key",
            "account_id",
            "party_id",
            "role",
            "channel",
            "template",
            "language",
            "policy",
            "step",
            "run_on",
            "amount",
            "deadline",
            "delinquency",
            "status",
            "document_name",
            "address",
            "postage_class",
            "article_number",
            "message_id",
            "recipient",
            "attempts",
            "error",
            "created_at",
            "detail",
        ]
        bulk.insert_rows(Outbound._meta.db_table, columns, rows)
    return names


def _charge_detail(field: Any, connection: Any, action: Any) -> Any:
    """The `detail` of a queued letter about one charge (a per-charge step): its txn id, so
    that the letter names that charge as the ledger has it when it is rendered."""
    charge = getattr(action, "charge", None)
    return field.get_db_prep_save({"charge": charge}, connection) if charge else None


@transaction.atomic
def outbound_queue(
    *,
    key: str,
    account: Account,
    party: Party | None,
    role: str,
    channel: str,
    template: str,
    run_on: date,
    actor: str,
    language: str = "en",
    step: str = "",
    amount: Any = None,
    fields: dict[str, Any] | None = None,
    enclosures: Sequence[str] = (),
    summary: str = "",
) -> Outbound:
    """Queue one letter or email asked for outside the daily run (the answer to a dispute): the
    letters batch prints it, `mail send` sends it. `fields` are extra merge fields (JSON values;
    keys ending in `_on` are dates), `enclosures` archived documents put in the same envelope.

    Once per key: a key queued already returns its row unchanged. The caller has asked the
    compliance guard (arrears.dunning). Writes `letter.queued` (or `email.queued`) on the
    timeline, naming the document the letter will be.
    """
    existing = Outbound.objects.filter(key=key).first()
    if existing is not None:
        return existing
    if channel not in OUTBOUND_CHANNELS:
        raise ValidationError(f"a queued document goes by {', '.join(OUTBOUND_CHANNELS)}")
    party_id = party.party_id if party is not None else ""
    name = document_name(
        key=key,
        channel=channel,
        run_on=run_on,
        account_id=account.account_id,
        step=step or template,
        party_id=party_id,
    )
    now = dj_timezone.now()
    row = Outbound.objects.create(
        key=key,
        account=account,
        party=party,
        role=role,
        channel=channel,
        template=template,
        language=language,
        step=step,
        run_on=run_on,
        amount=amount,
        status="queued",
        document_name=name,
        postage_class=POSTAGE.get(channel, ""),
        created_at=now,
        recipient=party.email if party is not None and channel == "email" else "",
        detail={"fields": fields or {}, "enclosures": list(enclosures)},
    )
    kind = "email.queued" if channel == "email" else "letter.queued"
    TimelineEvent.objects.create(
        account=account,
        at=now,
        on=run_on,
        kind=kind,
        actor=actor,
        summary=(
            summary
            or f"{template} queued by {channel.replace('_', ' ')} for "
            f"{party.name if party else account.account_id}"
        )[:500],
        detail={
            "letter_id": row.pk,
            "key": key,
            "template": template,
            "channel": channel,
            "document": name,
            "party_id": party_id or None,
            "enclosures": list(enclosures),
        },
    )
    return row


@dataclass(frozen=True)
class Recheck:
    """The answer of the re-check a letter or an email gets when it goes out (dunning decides it
    and passes it down as a callback): `cancel` says why it no longer goes out ("" when it
    goes, with its `amount` and `deadline` counted as of that day)."""

    cancel: str = ""
    rule: str = ""
    amount: Decimal | None = None
    deadline: date | None = None


# Asked in the caller's transaction for the rows about to go out on a date: one Recheck per row,
# in order. It may write its own part's records in that transaction (dunning closes the action of
# a cancelled notice and brings its figures up to date).
Rechecker = Callable[[Sequence[Outbound], date], list[Recheck]]


def outbound_cancel(
    outbound: Outbound, *, rule: str, reason: str, on: date, actor: str
) -> dict[str, Any]:
    """Cancel a queued (or prepared, not yet sent) letter or email that is no longer due, with
    its reason on the timeline; returns what the batch or the sender reports of it."""
    what = "email" if outbound.channel == "email" else "letter"
    outbound.status = "cancelled"
    outbound.error = f"cancelled ({rule}): {reason}"[:500]
    outbound.detail = {
        **(outbound.detail or {}),
        "cancelled": {"rule": rule, "reason": reason, "on": on.isoformat()},
    }
    outbound.save(update_fields=["status", "error", "detail"])
    TimelineEvent.objects.create(
        account_id=outbound.account_id,
        at=dj_timezone.now(),
        on=on,
        kind=f"{what}.cancelled",
        actor=actor,
        summary=f"{outbound.template} to {outbound.party.name if outbound.party else '—'} "
        f"not {'sent' if what == 'email' else 'printed'}: {reason}"[:500],
        detail={
            "letter_id" if what == "letter" else "outbound": outbound.pk,
            "key": outbound.key,
            "rule": rule,
            "reason": reason,
            "queued_on": outbound.run_on.isoformat(),
        },
    )
    return {
        "id": outbound.pk,
        "key": outbound.key,
        "account_id": outbound.account.account_id,
        "rule": rule,
        "reason": reason,
    }


def outbound_dated(
    outbound: Outbound, *, on: date, amount: Decimal | None, deadline: date | None, actor: str
) -> None:
    """Fix a letter's or an email's date, amount and deadline as of `on`, the day it goes out:
    on the row (what it was queued with kept in `detail["queued_as"]`) and on the timeline."""
    what = "email" if outbound.channel == "email" else "letter"
    before = {
        "run_on": outbound.run_on.isoformat(),
        "dated_on": _iso(outbound.dated_on),
        "amount": _money(outbound.amount),
        "deadline": _iso(outbound.deadline),
    }
    detail = dict(outbound.detail or {})
    detail.setdefault("queued_as", before)
    outbound.dated_on, outbound.amount, outbound.deadline = on, amount, deadline
    outbound.detail = detail
    outbound.save(update_fields=["dated_on", "amount", "deadline", "detail"])
    after = {"dated_on": on.isoformat(), "amount": _money(amount), "deadline": _iso(deadline)}
    TimelineEvent.objects.create(
        account_id=outbound.account_id,
        at=dj_timezone.now(),
        on=on,
        kind=f"{what}.dated",
        actor=actor,
        summary=f"{outbound.template} dated {on.isoformat()}"
        + (f", {after['amount']}" if amount is not None else "")
        + (f", deadline {after['deadline']}" if deadline is not None else "")
        + f" (queued {outbound.run_on.isoformat()}"
        + (f" with {before['amount']}" if before["amount"] else "")
        + (f", deadline {before['deadline']}" if before["deadline"] else "")
        + ")",
        detail={
            "letter_id" if what == "letter" else "outbound": outbound.pk,
            "key": outbound.key,
            **after,
            "queued_as": detail["queued_as"],
        },
    )


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _money(amount: Decimal | None) -> str | None:
    return None if amount is None else f"{amount:.2f}"


def outbounds_recheck(
    rows: Sequence[Outbound], *, on: date, recheck: Rechecker, actor: str
) -> tuple[list[Outbound], list[dict[str, Any]]]:
    """Ask `recheck` about `rows` going out on `on` (in the caller's transaction): cancel what is
    no longer due, date the rest `on` with their figures of that day. Returns (the rows that
    go, the cancelled ones as reported)."""
    going: list[Outbound] = []
    cancelled: list[dict[str, Any]] = []
    for row, check in zip(rows, recheck(rows, on), strict=True):
        if check.cancel:
            cancelled.append(
                outbound_cancel(row, rule=check.rule, reason=check.cancel, on=on, actor=actor)
            )
        else:
            outbound_dated(row, on=on, amount=check.amount, deadline=check.deadline, actor=actor)
            going.append(row)
    return going, cancelled


def email_unprepare(outbound: Outbound, *, on: date) -> None:
    """Put a prepared email not yet sent back to be prepared again (its figures changed), under
    a new archive name: the message prepared before stays archived as it was."""
    old = outbound.document.name if outbound.document else outbound.document_name
    stem, _, ext = old.rpartition(".")
    base = f"{stem}-{on:%Y%m%d}"
    name, n = f"{base}.{ext}", 1
    while Document.objects.filter(name=name).exists():
        n += 1
        name = f"{base}-{n}.{ext}"
    detail = dict(outbound.detail or {})
    detail["superseded"] = [*detail.get("superseded", []), old]
    outbound.status, outbound.document, outbound.document_name = "queued", None, name
    outbound.rendered_at, outbound.detail = None, detail
    outbound.save(update_fields=["status", "document", "document_name", "rendered_at", "detail"])


@dataclass
class BatchResult:
    on: date
    letters: list[dict[str, Any]] = field(default_factory=list)
    print_file: Path | None = None
    manifest: Path | None = None
    batch: int | None = None
    resumed: bool = False  # a batch a crash interrupted, finished now
    cancelled: list[dict[str, Any]] = field(default_factory=list)  # no longer due: not printed
    # Letters that cannot be printed (a merge field their template requires is empty): failed,
    # set aside with the reason, so that one bad letter never holds up the others.
    failed: list[dict[str, Any]] = field(default_factory=list)
    documents: dict[str, str] = field(default_factory=dict)  # print/manifest: archived name

    def line(self) -> str:
        cancelled = f"; {len(self.cancelled)} cancelled as no longer due" if self.cancelled else ""
        if self.failed:
            cancelled += f"; {len(self.failed)} set aside, not printable"
        if not self.letters:
            return f"No letters to print for {self.on.isoformat()}{cancelled}."
        resumed = " (an interrupted batch, finished)" if self.resumed else ""
        return (
            f"{len(self.letters)} letters for {self.on.isoformat()} in batch {self.batch}"
            f"{resumed}: print file {self.print_file}, mailing manifest {self.manifest}"
            f"{cancelled}"
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "date": self.on.isoformat(),
            "batch": self.batch,
            "resumed": self.resumed,
            "letters": [line["letter_id"] for line in self.letters],
            "print_file": self.documents.get("print", ""),
            "manifest": self.documents.get("manifest", ""),
            "cancelled": self.cancelled,
            "failed": self.failed,
        }


MANIFEST_COLUMNS = [
    "line",
    "letter_id",
    "article_number",
    "postage_class",
    "addressee",
    "address",
    "city",
    "state",
    "postal_code",
    "account_id",
    "date",
    "document",
]


def _chunks(items: Sequence[Outbound], size: int) -> Iterator[list[Outbound]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def letters_batch(
    *,
    on: date,
    output: Path,
    actor: str,
    workers: int = 2,
    progress: Callable[[int, int], None] | None = None,
    reprint: bool = False,
    batch: int | None = None,
    recheck: Rechecker | None = None,
) -> BatchResult:
    """Print the letters queued up to `on` as one print batch: each rendered into the archive and
    into OUTPUT/letters/, all into one print file with its mailing manifest (the certified-mail
    firm sheet to fill in), both archived; see `PrintBatch`.

    `recheck` (dunning's) is asked first: a letter no longer due is cancelled, the others are
    dated `on` with their amount and deadline of that day (without it, letters go as queued).
    A batch a crash left open is finished first, as it was opened, re-using the PDFs already
    archived; a letter is in one batch only. `reprint` renders nothing: it writes batch
    `batch`'s (default: the last complete one up to `on`) print file and manifest again, for its
    letters not yet mailed. Raises ValidationError when another batch is being printed.
    """
    if reprint:
        return _reprint(on=on, output=output, batch=batch)
    result = BatchResult(on=on)
    row = _batch_open(on=on, actor=actor, recheck=recheck, result=result)
    if row is None:
        return result
    result.on, result.batch = row.on, row.pk
    letters = _batch_letters(row)
    queued = [o for o in letters if o.status == "queued"]
    done = len(letters) - len(queued)
    if queued:
        _render(
            queued,
            actor=actor,
            workers=workers,
            progress=(lambda n: progress(done + n, len(letters))) if progress else None,
        )
    letters = _batch_letters(row)
    _batch_files(row, letters, output, result)
    with transaction.atomic():
        for kind, path, ctype in (
            ("print", result.print_file, "application/pdf"),
            ("manifest", result.manifest, "text/csv"),
        ):
            assert path is not None
            data = path.read_bytes()
            document = archive_store(
                data=data,
                kind=kind,
                content_type=ctype,
                name=f"print/{row.on:%Y/%m/%d}/{path.stem}-{sha256_of(data)[:10]}{path.suffix}",
            )
            result.documents[kind] = document.name
            setattr(row, "print_file" if kind == "print" else "manifest", document)
        row.status = PrintBatch.Status.COMPLETE
        row.completed_at = dj_timezone.now()
        row.save(update_fields=["status", "completed_at", "print_file", "manifest"])
    return result


def _batch_open(
    *, on: date, actor: str, recheck: Rechecker | None, result: BatchResult
) -> PrintBatch | None:
    """The batch to print: the one a crash left open, else a new one naming the letters queued
    up to `on` that are still due (None when there are none)."""
    with transaction.atomic():
        row = PrintBatch.objects.select_for_update().filter(status="open").first()
        if row is not None:
            result.resumed = True
            return row
        queued = letters_for_batch(on)
        if recheck is not None and queued:
            queued, result.cancelled = outbounds_recheck(
                queued, on=on, recheck=recheck, actor=actor
            )
        if queued:
            queued, result.failed = _printable(queued, on=on, actor=actor)
        if not queued:
            return None
        last = PrintBatch.objects.filter(on=on).order_by("-number").first()
        try:
            with transaction.atomic():
                row = PrintBatch.objects.create(
                    on=on,
                    number=last.number + 1 if last else 1,
                    actor=actor,
                    created_at=dj_timezone.now(),
                )
        except IntegrityError:
            raise ValidationError(
                "another print batch is being printed: run the batch again when it is done"
            ) from None
        named = Outbound.objects.filter(
            pk__in=[o.pk for o in queued], status="queued", batch__isnull=True
        ).update(batch=row)
        if named != len(queued):
            raise ValidationError(
                "letters were printed by another batch meanwhile: run the batch again"
            )
        return row


def _printable(
    queued: list[Outbound], *, on: date, actor: str
) -> tuple[list[Outbound], list[dict[str, Any]]]:
    """The letters whose templates' required merge fields are all there (as they will print),
    and the others failed with the reason on the timeline (`letter.failed`). Returns (the
    printable letters, the failed ones as reported)."""
    cache: dict[Any, Any] = {}
    printable: list[Outbound] = []
    failed: list[dict[str, Any]] = []
    for chunk in _chunks(queued, BATCH_CHUNK):
        for outbound, context in zip(chunk, outbound_contexts(chunk), strict=True):
            loaded = template_load(outbound.template, context["language"], cache)
            missing = missing_fields(loaded.requires, context)
            if not missing:
                printable.append(outbound)
                continue
            reason = (
                f"template {outbound.template} requires {', '.join(missing)}, empty for account "
                f"{context['account']['account_id']}: the letter cannot be printed"
            )
            outbound.status, outbound.error = "failed", reason[:500]
            outbound.save(update_fields=["status", "error"])
            TimelineEvent.objects.create(
                account_id=outbound.account_id,
                at=dj_timezone.now(),
                on=on,
                kind="letter.failed",
                actor=actor,
                summary=f"{outbound.template} to "
                f"{outbound.party.name if outbound.party else '—'} not printed: {reason}"[:500],
                detail={"letter_id": outbound.pk, "key": outbound.key, "missing": missing},
            )
            failed.append(
                {
                    "id": outbound.pk,
                    "key": outbound.key,
                    "account_id": context["account"]["account_id"],
                    "rule": "merge_field_missing",
                    "reason": reason,
                }
            )
    return printable, failed


def _batch_letters(row: PrintBatch) -> list[Outbound]:
    return list(
        row.letters.select_related("document", "account").order_by("run_on", "account_id", "id")
    )


def _render(
    queued: list[Outbound], *, actor: str, workers: int, progress: Callable[[int], None] | None
) -> None:
    """Render the batch's letters not yet archived, a chunk at a time, each chunk committed with
    its letters `rendered` and their timeline rows."""
    from arrears.correspondence.enclosures import (
        enclosures_for,
        statement_enclosure,
        statement_key,
        with_enclosures,
    )
    from arrears.correspondence.pdfs import render_parallel
    from arrears.correspondence.statements import statement_archived, statement_html
    from arrears.ledger.selectors import account_ledger

    cache: dict[Any, Any] = {}
    pages: dict[int, tuple[Outbound, RenderedMessage]] = {}
    # The statements the chunk's monthly statements enclose: rendered by the same workers, after
    # the chunk's letters, once per account and date in the batch.
    statements: deque[list[tuple[Any, Any]]] = deque()
    scheduled: set[Any] = set()

    def html_chunks() -> Iterator[list[str]]:
        for chunk in _chunks(queued, BATCH_CHUNK):
            extra: list[tuple[Any, Any]] = []
            htmls: list[str] = []
            for outbound, context in zip(chunk, outbound_contexts(chunk), strict=True):
                loaded = template_load(outbound.template, context["language"], cache)
                pages[outbound.pk] = (outbound, render_with(loaded, context, letter=True))
                key = statement_key(context["account"]["account_id"], context["letter_date"])
                if spec_for(outbound.template).encloses == "statement" and key not in scheduled:
                    scheduled.add(key)
                    ledger = account_ledger(account_id=key[1], as_of=key[2])
                    extra.append((key, ledger))
                    htmls.append(statement_html(ledger))
            statements.append(extra)
            yield [pages[o.pk][1].html for o in chunk] + htmls

    done = 0
    chunks = _chunks(queued, BATCH_CHUNK)
    enclosed: dict[Any, Any] = {}
    for pdfs in render_parallel(html_chunks(), workers=workers):
        chunk = next(chunks)
        with transaction.atomic():
            for (key, ledger), data in zip(statements.popleft(), pdfs[len(chunk) :], strict=True):
                statement_archived(ledger=ledger, data=data, actor=actor)
                enclosed[key] = statement_enclosure(key[1], key[2], data)
            for outbound, letter in zip(chunk, pdfs[: len(chunk)], strict=True):
                _, rendered = pages.pop(outbound.pk)
                # A monthly statement, the analysis answering a dispute: in the same envelope.
                data = with_enclosures(
                    letter, enclosures_for(outbound, actor=actor, cache=enclosed)
                )
                _letter_rendered(outbound, rendered, data, actor)
        done += len(chunk)
        if progress:
            progress(done)


def _batch_files(
    row: PrintBatch, letters: list[Outbound], output: Path, result: BatchResult
) -> None:
    """Write the batch's letters (from the archive: the PDFs printed are the ones archived), its
    manifest and its print file into `output`, each file whole or not at all."""
    from arrears.correspondence.archive import archive_read

    (output / "letters").mkdir(parents=True, exist_ok=True)
    files = []
    for outbound in letters:
        assert outbound.document is not None
        path = output / "letters" / Path(outbound.document.name).name
        _write_whole(path, partial(_put_bytes, archive_read(outbound.document)))
        files.append(path)
        result.letters.append(
            _manifest_line(outbound, outbound.document.name, outbound.account.account_id)
        )
    # The manifest first: it is what the post office needs.
    result.manifest = output / f"manifest-{row.stem}.csv"
    _write_whole(result.manifest, lambda target: _write_manifest(target, result.letters))
    result.print_file = output / f"print-{row.stem}.pdf"
    _write_whole(result.print_file, lambda target: _merge(files, target))


def _write_whole(path: Path, write: Callable[[Path], Any]) -> None:
    """Write a file under a temporary name, then rename it: a crash leaves no partial file."""
    part = path.with_name(f".{path.name}.part")
    write(part)
    os.replace(part, path)


def _put_bytes(data: bytes, target: Path) -> None:
    target.write_bytes(data)


def _write_manifest(target: Path, letters: list[dict[str, Any]]) -> None:
    with target.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for line, letter in enumerate(letters, start=1):
            # The print vendor opens it in a spreadsheet: an addressee "=HYPERLINK(…)" is text.
            writer.writerow({k: safe_cell(v) for k, v in {**letter, "line": line}.items()})


def _reprint(*, on: date, output: Path, batch: int | None) -> BatchResult:
    """One complete batch's print file and manifest again, for its letters not yet mailed."""
    query = PrintBatch.objects.filter(status="complete")
    row = (
        query.filter(pk=batch)
        if batch is not None
        else query.filter(on__lte=on).order_by("-on", "-number")
    ).first()
    if row is None:
        if batch is not None:
            raise NotFoundError(f"no complete print batch {batch}")
        return BatchResult(on=on)
    result = BatchResult(on=row.on, batch=row.pk)
    letters = [o for o in _batch_letters(row) if o.status == "rendered"]
    if letters:
        _batch_files(row, letters, output, result)
    return result


def _letter_rendered(
    outbound: Outbound, rendered: RenderedMessage, data: bytes, actor: str
) -> None:
    document = archive_store(
        data=data, name=outbound.document_name, kind="letter", content_type="application/pdf"
    )
    context = rendered.context
    now = dj_timezone.now()
    outbound.address = "\n".join([context["addressee"]["name"], *context["addressee"]["lines"]])
    updated = Outbound.objects.filter(pk=outbound.pk, status="queued").update(
        status="rendered",
        document=document,
        rendered_at=now,
        address=outbound.address,
        template_version=rendered.template_version,
        language=rendered.language,
    )
    if updated != 1:  # another batch printed it meanwhile: never twice
        raise ValidationError(f"letter L{outbound.pk} was printed by another batch")
    TimelineEvent.objects.create(
        account_id=outbound.account_id,
        at=now,
        on=outbound.dated_on or outbound.run_on,
        kind="letter.rendered",
        actor=actor,
        summary=f"{outbound.template} v{rendered.template_version} ({rendered.language}) "
        f"printed for {context['addressee']['name']}: {document.name}",
        detail={
            "letter_id": outbound.pk,
            "key": outbound.key,
            "document": document.name,
            "sha256": document.sha256,
            "template": outbound.template,
            "template_version": rendered.template_version,
            "language": rendered.language,
            "channel": outbound.channel,
            "batch": outbound.batch_id,
        },
    )


def _manifest_line(outbound: Outbound, document: str, account_id: str) -> dict[str, Any]:
    """The firm-sheet line of a printed letter, from the addressee block as printed."""
    name, *lines = outbound.address.split("\n")
    street = lines[:-1] if len(lines) > 1 else lines
    last = lines[-1] if len(lines) > 1 else ""
    city, _, rest = last.partition(",")
    state, _, postal = rest.strip().partition(" ")
    return {
        "letter_id": outbound.pk,
        "article_number": outbound.article_number,
        "postage_class": outbound.postage_class or POSTAGE.get(outbound.channel, ""),
        "addressee": name,
        "address": ", ".join(street),
        "city": city.strip(),
        "state": state.strip(),
        "postal_code": postal.strip(),
        "account_id": account_id,
        "date": (outbound.dated_on or outbound.run_on).isoformat(),
        "document": document,
    }


def _merge(files: list[Path], target: Path) -> None:
    """One print file of every letter, in order, written as it reads them (memory stays flat)."""
    from arrears.correspondence.pdfs import concat_pdfs

    concat_pdfs(files, target)


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
    try:
        with manifest.open(encoding="utf-8-sig", newline="") as stream:
            rows = list(csv.DictReader(stream))
    except OSError as exc:
        raise ValidationError(f"{manifest}: cannot read the manifest ({exc.strerror})") from None
    if rows and "letter_id" not in rows[0]:
        raise ValidationError(f"{manifest}: line 1: no letter_id column")
    errors: list[str] = []
    plan: list[tuple[Outbound, str, date]] = []
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
        number = normalize_article_number(row.get("article_number") or "")
        day = mailed_on
        if (row.get("mailed_on") or "").strip():
            try:
                day = date.fromisoformat(row["mailed_on"].strip())
            except ValueError:
                errors.append(f"{where}, column mailed_on: not a date {row['mailed_on']!r}")
                continue
        if outbound.channel == "certified_letter" or number:
            problem = article_number_problem(number)
            if problem:
                errors.append(f"{where}, column article_number: {problem}")
                continue
        if number and number in seen:
            errors.append(
                f"{where}, column article_number: {number} is also on line {seen[number]}"
            )
            continue
        if number:
            seen[number] = line
        if outbound.status in ("mailed", "returned"):
            if outbound.article_number != number:
                errors.append(
                    f"{where}, column article_number: letter L{outbound.pk} was "
                    f"mailed with {outbound.article_number or 'no number'}"
                )
            continue
        if outbound.status != "rendered" or outbound.batch_id in unfinished:
            errors.append(f"{where}, column letter_id: letter L{outbound.pk} is not printed")
            continue
        plan.append((outbound, number, day))
    taken = dict(
        Outbound.objects.filter(article_number__in=list(seen))
        .exclude(pk__in=[o.pk for o, _, _ in plan])
        .values_list("article_number", "pk")
    )
    for outbound, number, _ in plan:
        if number in taken and taken[number] != outbound.pk:
            errors.append(
                f"{manifest}: article number {number} is already on letter L{taken[number]}"
            )
    if errors:
        raise ValidationError("\n".join(errors[:20]), errors=errors)
    result = MailedResult(unchanged=len(rows) - len(plan))
    now = dj_timezone.now()
    for outbound, number, day in plan:
        outbound.status = "mailed"
        outbound.article_number = number
        outbound.mailed_on = day
        try:
            with transaction.atomic():
                outbound.save(update_fields=["status", "article_number", "mailed_on"])
        except IntegrityError:
            raise ValidationError(f"{manifest}: article number {number} is already used") from None
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
        result.mailed += 1
    return result


@transaction.atomic
def mail_returned(*, letter: str, on: date, actor: str, reason: str = "") -> ReturnedMail:
    """Record a letter returned undeliverable (by letter id `L12`/`12` or article number): the
    letter is marked returned and its address bad for the party (the guard then refuses letters
    to it until the party's address changes). Raises NotFoundError, ValidationError."""
    text = letter.strip()
    number = normalize_article_number(text)
    query = Outbound.objects.select_for_update()
    if len(number) in (20, 22) and number.isdigit():
        outbound = query.filter(article_number=number).first()
    else:
        ident = text.lstrip("Ll")
        outbound = query.filter(pk=int(ident)).first() if ident.isdigit() else None
    if outbound is None or outbound.channel not in LETTER_CHANNELS:
        raise NotFoundError(f"no letter {letter!r}")
    if outbound.party_id is None:
        raise ValidationError(f"letter L{outbound.pk} has no addressee")
    if outbound.status == "returned":
        raise ValidationError(
            f"letter L{outbound.pk} was already recorded returned on {outbound.returned_on}"
        )
    if outbound.status not in ("mailed", "rendered"):
        raise ValidationError(f"letter L{outbound.pk} was never printed")
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


@transaction.atomic
def template_add(
    *,
    name: str,
    language: str,
    subject: str,
    body: str,
    actor: str,
    requires: Sequence[str] | None = None,
) -> Template:
    """Store a company's version of a template (the next version of its name and language).

    The subject and body must compile as Django templates (ValidationError otherwise); what is
    already sent keeps the version it was rendered with. `requires` names the merge fields the
    version may not render without (dotted paths); None keeps its name's (catalog.REQUIRES).
    """
    if requires is not None:
        bad = [f for f in requires if not re.fullmatch(r"[a-z_][a-z0-9_]*(\.[a-z0-9_]+)*", f)]
        if bad:
            raise ValidationError(f"not a merge field: {bad[0]!r}", field="requires")
        requires = list(dict.fromkeys(requires))
    from django.template import TemplateSyntaxError, engines

    if language not in LANGUAGES:
        raise ValidationError(
            f"a template's language is one of {', '.join(LANGUAGES)}", field="language"
        )
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,99}", name):
        raise ValidationError(
            f"a template name is lower-case letters, digits and dashes: {name!r}", field="name"
        )
    for part, source in (("subject", subject), ("body", body)):
        try:
            engines["django"].from_string(source)
        except TemplateSyntaxError as exc:
            raise ValidationError(
                f"the template's {part} does not compile: {exc}", field=part
            ) from None
    last = Template.objects.filter(name=name, language=language).order_by("-version").first()
    version = last.version + 1 if last else 1
    return Template.objects.create(
        name=name,
        language=language,
        version=version,
        subject=subject,
        body=body,
        created_at=dj_timezone.now(),
        created_by=actor,
        requires=requires,
    )


def template_names() -> list[tuple[str, str, int]]:
    """Every template: (name, language, latest version; 0 = built in only)."""
    out = {(name, lang): 0 for name in CATALOG for lang in LANGUAGES}
    for name, lang, version in Template.objects.values_list("name", "language", "version"):
        out[(name, lang)] = max(out.get((name, lang), 0), version)
    return sorted((n, lang, v) for (n, lang), v in out.items())
