"""The letters batch: the letters queued up to a day rendered into the archive, one print file and
its mailing manifest, a batch a crash interrupted finished as it was opened, a batch printed again.

Invariants: a letter is in one batch only and is rendered once (`queued` to `rendered` in one
update); a letter counts as printed only when the print file and the manifest both exist, each
written under a temporary name and renamed.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from arrears.core.broker import on_workers, worker_wait
from arrears.core.cells import safe_cell
from arrears.core.errors import NotFoundError, ValidationError
from arrears.correspondence.archive import archive_store, sha256_of
from arrears.correspondence.letter_chunks import BATCH_CHUNK, letters_render, parts
from arrears.correspondence.models import Outbound, PrintBatch
from arrears.correspondence.outbound import POSTAGE, Rechecker, outbounds_recheck
from arrears.correspondence.rendering import missing_fields, template_load
from arrears.correspondence.selectors import letters_for_batch, letters_waiting, outbound_contexts
from arrears.ledger.models import TimelineEvent


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
    wait: float = 600,
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
    With CELERY_BROKER_URL set the letters are rendered by the workers, a task per chunk
    (`letter_chunks`): NoWorkerError, before anything is written, when no worker answers within
    `wait` seconds, or when none renders a letter for `wait` seconds (the batch then stays open).
    """
    if reprint:
        return _reprint(on=on, output=output, batch=batch)
    if on_workers() and letters_waiting(on):
        worker_wait(wait)
    result = BatchResult(on=on)
    row = _batch_open(on=on, actor=actor, recheck=recheck, result=result)
    if row is None:
        return result
    result.on, result.batch = row.on, row.pk
    letters = _batch_letters(row)
    queued = [o for o in letters if o.status == "queued"]
    done = len(letters) - len(queued)
    if queued:
        letters_render(
            batch=row.pk,
            letters=queued,
            actor=actor,
            workers=workers,
            wait=wait,
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
                _("another print batch is being printed: run the batch again when it is done"),
                code="print_batch_busy",
            ) from None
        named = Outbound.objects.filter(
            pk__in=[o.pk for o in queued], status="queued", batch__isnull=True
        ).update(batch=row)
        if named != len(queued):
            raise ValidationError(
                _("letters were printed by another batch meanwhile: run the batch again"),
                code="print_batch_letters_taken",
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
    for chunk in parts(queued, BATCH_CHUNK):
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
            raise NotFoundError(
                _("no complete print batch {batch}"), code="print_batch_not_found", batch=batch
            )
        return BatchResult(on=on)
    result = BatchResult(on=row.on, batch=row.pk)
    letters = [o for o in _batch_letters(row) if o.status == "rendered"]
    if letters:
        _batch_files(row, letters, output, result)
    return result


def _manifest_line(outbound: Outbound, document: str, account_id: str) -> dict[str, Any]:
    """The firm-sheet line of a printed letter, from the addressee block as printed."""
    name, *lines = outbound.address.split("\n")
    street = lines[:-1] if len(lines) > 1 else lines
    last = lines[-1] if len(lines) > 1 else ""
    city, _comma, rest = last.partition(",")
    state, _space, postal = rest.strip().partition(" ")
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
