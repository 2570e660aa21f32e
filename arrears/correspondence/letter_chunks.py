"""The letters of a print batch rendered into the archive, a chunk at a time: in the batch's own
process, or one Celery task per chunk (`arrears.letters_chunk`) on the workers when
CELERY_BROKER_URL is set.

Invariants:
- one function renders a chunk (`letters_chunk`), in the batch's process and on a worker alike;
- a chunk renders only its letters still `queued` in its batch; each part of it (16 letters) is
  committed with its letters locked, `rendered`, their documents and timeline rows, so a chunk
  done twice (redelivered after a worker died, or taken by two workers at once) renders and
  writes nothing twice, and a file a killed worker archived before its commit is adopted by the
  next (the same letter gives the same bytes; the archive never overwrites a name);
- an account's letters are in one chunk, so a statement they enclose is rendered once a batch;
- the batch's process learns what the workers did from the letters' own rows (their status in
  the batch): no result backend and no row of its own, since a letter `rendered` is already
  what a batch a crash left open is finished from.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from arrears.core.broker import on_workers, tasks_done
from arrears.core.errors import ValidationError
from arrears.correspondence.archive import archive_store
from arrears.correspondence.catalog import spec_for
from arrears.correspondence.models import Outbound
from arrears.correspondence.rendering import RenderedMessage, render_with, template_load
from arrears.correspondence.selectors import outbound_contexts
from arrears.ledger.models import TimelineEvent

BATCH_CHUNK = 16  # letters per transaction, and per task of a worker process


def parts(items: Sequence[Outbound], size: int) -> Iterator[list[Outbound]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def letter_chunks(letters: Sequence[Outbound], size: int) -> list[list[int]]:
    """The letters' keys in chunks of about `size` (more when one account has more letters), in
    the letters' order, each account's letters in one chunk."""
    by_account: dict[int, list[int]] = {}
    for outbound in letters:
        by_account.setdefault(outbound.account_id, []).append(outbound.pk)
    chunks: list[list[int]] = []
    current: list[int] = []
    for pks in by_account.values():
        if current and len(current) + len(pks) > size:
            chunks.append(current)
            current = []
        current.extend(pks)
    if current:
        chunks.append(current)
    return chunks


def letters_render(
    *,
    batch: int,
    letters: list[Outbound],
    actor: str,
    workers: int,
    wait: float,
    progress: Callable[[int], None] | None,
) -> None:
    """Render `letters` (queued, named by the print batch `batch`) into the archive, chunk by
    chunk: on the workers when `on_workers()`, else here, `workers` processes rendering the PDFs.
    Raises NoWorkerError when the workers render none for `wait` seconds (the batch stays open:
    the next batch finishes it)."""
    chunks = letter_chunks(letters, settings.ARREARS_LETTER_CHUNK)
    if on_workers():
        _chunks_on_workers(batch=batch, chunks=chunks, actor=actor, wait=wait, progress=progress)
        return
    done = 0
    for pks in chunks:
        letters_chunk(
            batch=batch, pks=pks, actor=actor, workers=workers, progress=_after(done, progress)
        )
        done += len(pks)


def _after(before: int, progress: Callable[[int], None] | None) -> Callable[[int], None] | None:
    """A chunk's progress as the batch's: its letters done after `before` others."""
    if progress is None:
        return None
    return lambda n: progress(before + n)


def letters_chunk(
    *,
    batch: int,
    pks: list[int],
    actor: str,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
    before_commit: Callable[[], None] | None = None,
) -> int:
    """Render the letters `pks` of the print batch `batch` that are still queued (module
    docstring); `workers` processes render the PDFs (1: this one, as a Celery worker's pool
    process must). Returns how many it rendered. `before_commit` is called in each part's
    transaction once its rows are written (the tests of a worker killed mid-chunk)."""
    letters = list(
        Outbound.objects.filter(batch_id=batch, pk__in=pks, status="queued")
        .select_related("document", "account")
        .order_by("run_on", "account_id", "id")
    )
    if not letters:
        return 0
    return _render(
        letters, actor=actor, workers=workers, progress=progress, before_commit=before_commit
    )


def _chunks_on_workers(
    *,
    batch: int,
    chunks: list[list[int]],
    actor: str,
    wait: float,
    progress: Callable[[int], None] | None,
) -> None:
    """One task per chunk, then wait until no letter of the batch is queued."""
    from arrears.correspondence.tasks import letters_chunk_task

    total = sum(len(pks) for pks in chunks)
    queued = Outbound.objects.filter(batch_id=batch, status="queued")
    told = 0

    def rendered() -> int:
        nonlocal told
        done = total - queued.count()
        if progress and done > told:
            told = done
            progress(done)
        return done

    tasks_done(
        letters_chunk_task,
        [
            {"batch": batch, "index": index, "pks": pks, "actor": actor}
            for index, pks in enumerate(chunks)
        ],
        wait=wait,
        total=total,
        done=rendered,
        stalled=(
            _(
                "no letter rendered within {wait} s ({done} of {total} rendered): are the "
                "workers up? The batch stays open: run it again to finish it"
            ),
            "no_chunk_done",
        ),
    )


def _render(
    queued: list[Outbound],
    *,
    actor: str,
    workers: int,
    progress: Callable[[int], None] | None,
    before_commit: Callable[[], None] | None,
) -> int:
    """Render the letters, a part at a time, each part committed with its letters (those still
    queued once locked) `rendered` and their timeline rows; returns how many it rendered."""
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
    # The statements the part's monthly statements enclose: rendered by the same workers, after
    # the part's letters, once per account and date in the chunk.
    statements: deque[list[tuple[Any, Any]]] = deque()
    scheduled: set[Any] = set()

    def html_parts() -> Iterator[list[str]]:
        for part in parts(queued, BATCH_CHUNK):
            extra: list[tuple[Any, Any]] = []
            htmls: list[str] = []
            for outbound, context in zip(part, outbound_contexts(part), strict=True):
                loaded = template_load(outbound.template, context["language"], cache)
                pages[outbound.pk] = (outbound, render_with(loaded, context, letter=True))
                key = statement_key(context["account"]["account_id"], context["letter_date"])
                if spec_for(outbound.template).encloses == "statement" and key not in scheduled:
                    scheduled.add(key)
                    ledger = account_ledger(account_id=key[1], as_of=key[2])
                    extra.append((key, ledger))
                    htmls.append(statement_html(ledger))
            statements.append(extra)
            yield [pages[o.pk][1].html for o in part] + htmls

    done = rendered = 0
    letter_parts = parts(queued, BATCH_CHUNK)
    enclosed: dict[Any, Any] = {}
    for pdfs in render_parallel(html_parts(), workers=workers):
        part = next(letter_parts)
        with transaction.atomic():
            # Locked, then read again: a copy of this chunk on another worker may have rendered
            # them since; those are left as it wrote them.
            still = set(
                Outbound.objects.select_for_update()
                .filter(pk__in=[o.pk for o in part], status="queued")
                .values_list("pk", flat=True)
            )
            accounts = {o.account.account_id for o in part if o.pk in still}
            for (key, ledger), data in zip(statements.popleft(), pdfs[len(part) :], strict=True):
                if key[1] in accounts:
                    statement_archived(ledger=ledger, data=data, actor=actor)
                enclosed[key] = statement_enclosure(key[1], key[2], data)
            for outbound, letter in zip(part, pdfs[: len(part)], strict=True):
                _row, message = pages.pop(outbound.pk)
                if outbound.pk not in still:
                    continue
                # A monthly statement, the analysis answering a dispute: in the same envelope.
                data = with_enclosures(
                    letter, enclosures_for(outbound, actor=actor, cache=enclosed)
                )
                _letter_rendered(outbound, message, data, actor)
            if before_commit is not None and still:
                before_commit()
        done += len(part)
        rendered += len(still)
        if progress:
            progress(done)
    return rendered


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
        raise ValidationError(
            _("letter L{letter_id} was printed by another batch"),
            code="letter_printed_elsewhere",
            letter_id=outbound.pk,
        )
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
