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
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone as dj_timezone

from arrears.core.errors import NotFoundError, ValidationError
from arrears.core.fields import to_cents
from arrears.correspondence.addresses import lines_key
from arrears.correspondence.archive import archive_store
from arrears.correspondence.catalog import CATALOG, LANGUAGES, spec_for
from arrears.correspondence.certified import article_number_problem, normalize_article_number
from arrears.correspondence.models import Outbound, ReturnedMail, Template
from arrears.correspondence.rendering import RenderedMessage, render_with, template_load
from arrears.correspondence.selectors import letters_for_batch, outbound_contexts
from arrears.ledger import bulk
from arrears.ledger.models import Account, Party, TimelineEvent

LETTER_CHANNELS = ("letter", "certified_letter")
OUTBOUND_CHANNELS = (*LETTER_CHANNELS, "email")
POSTAGE = {"certified_letter": "Certified Mail", "letter": "First-Class Mail"}
BATCH_CHUNK = 16  # letters per task of a worker process


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:60] or "x"


def document_name(*, key: str, channel: str, run_on: date, account_id: str, step: str,
                  party_id: str) -> str:  # fmt: skip
    """The archive name of the document an outbound action produces, known before rendering:
    letters/2026/03/06/A-1-late-notice-P-1-<hash of the key>.pdf (emails: email/….eml)."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:10]
    folder, ext = ("letters", "pdf") if channel in LETTER_CHANNELS else ("email", "eml")
    return (f"{folder}/{run_on:%Y/%m/%d}/{_safe(account_id)}-{_safe(step)}-{_safe(party_id)}-"
            f"{digest}.{ext}")  # fmt: skip


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
        name = document_name(key=a.key, channel=a.channel, run_on=a.run_on,
                             account_id=a.account.account_id, step=a.step or a.template,
                             party_id=party_id)  # fmt: skip
        names[a.key] = name
        email = party.email if party is not None and a.channel == "email" else ""
        rows.append((
            a.key, a.account.pk, party.pk if party is not None else None, a.role or "",
            a.channel, a.template, a.language or "en", a.policy or "", a.step or "", a.run_on,
            None if a.amount is None else to_cents(a.amount), a.deadline, a.delinquency,
            "queued", name, "", POSTAGE.get(a.channel, ""), "", "", email, 0, "", created,
            _charge_detail(fields["detail"], connection, a) or no_detail,
        ))  # fmt: skip
    if insert and rows:
        columns = ["key", "account_id", "party_id", "role", "channel", "template", "language",
                   "policy", "step", "run_on", "amount", "deadline", "delinquency", "status",
                   "document_name", "address", "postage_class", "article_number", "message_id",
                   "recipient", "attempts", "error", "created_at", "detail"]  # fmt: skip
        bulk.insert_rows(Outbound._meta.db_table, columns, rows)
    return names


def _charge_detail(field: Any, connection: Any, action: Any) -> Any:
    """The `detail` of a queued letter about one charge (a per-charge step): its txn id, so
    that the letter names that charge as the ledger has it when it is rendered."""
    charge = getattr(action, "charge", None)
    return field.get_db_prep_save({"charge": charge}, connection) if charge else None


@transaction.atomic
def outbound_queue(
    *, key: str, account: Account, party: Party | None, role: str, channel: str, template: str,
    run_on: date, actor: str, language: str = "en", step: str = "", amount: Any = None,
    fields: dict[str, Any] | None = None, enclosures: Sequence[str] = (), summary: str = "",
) -> Outbound:  # fmt: skip
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
    name = document_name(key=key, channel=channel, run_on=run_on, account_id=account.account_id,
                         step=step or template, party_id=party_id)  # fmt: skip
    now = dj_timezone.now()
    row = Outbound.objects.create(
        key=key, account=account, party=party, role=role, channel=channel, template=template,
        language=language, step=step, run_on=run_on, amount=amount, status="queued",
        document_name=name, postage_class=POSTAGE.get(channel, ""), created_at=now,
        recipient=party.email if party is not None and channel == "email" else "",
        detail={"fields": fields or {}, "enclosures": list(enclosures)},
    )  # fmt: skip
    kind = "email.queued" if channel == "email" else "letter.queued"
    TimelineEvent.objects.create(
        account=account, at=now, on=run_on, kind=kind, actor=actor,
        summary=(summary or f"{template} queued by {channel.replace('_', ' ')} for "
                 f"{party.name if party else account.account_id}")[:500],
        detail={"letter_id": row.pk, "key": key, "template": template, "channel": channel,
                "document": name, "party_id": party_id or None,
                "enclosures": list(enclosures)},
    )  # fmt: skip
    return row


# ---- the letters batch ---------------------------------------------------------------------


@dataclass
class BatchResult:
    on: date
    letters: list[dict[str, Any]] = field(default_factory=list)
    print_file: Path | None = None
    manifest: Path | None = None

    def line(self) -> str:
        if not self.letters:
            return f"No letters to print for {self.on.isoformat()}."
        return (f"{len(self.letters)} letters for {self.on.isoformat()}: print file "
                f"{self.print_file}, mailing manifest {self.manifest}")  # fmt: skip


MANIFEST_COLUMNS = ["line", "letter_id", "article_number", "postage_class", "addressee",
                    "address", "city", "state", "postal_code", "account_id", "date",
                    "document"]  # fmt: skip


def _chunks(items: Sequence[Outbound], size: int) -> Iterator[list[Outbound]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _free(path: Path) -> Path:
    """`path`, or path-2, path-3… if a file of that name exists (an earlier batch of the day)."""
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


def letters_batch(
    *,
    on: date,
    output: Path,
    actor: str,
    workers: int = 2,
    progress: Callable[[int, int], None] | None = None,
    reprint: bool = False,
) -> BatchResult:
    """Render every queued letter up to `on`: each into the archive and into OUTPUT/letters/,
    all into one print file, with a mailing manifest (the certified-mail firm sheet) to fill in.

    Letters already rendered are not rendered again (a repeated batch prints nothing); each
    chunk of letters is committed with its timeline rows. `reprint` renders nothing: it writes
    the print file and manifest again for the letters up to `on` printed but not yet mailed
    (from the archive). Returns what was printed.
    """
    if reprint:
        return _reprint(on=on, output=output)
    queued = letters_for_batch(on)
    result = BatchResult(on=on)
    if not queued:
        return result
    output.mkdir(parents=True, exist_ok=True)
    (output / "letters").mkdir(exist_ok=True)
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
                key = statement_key(context["account"]["account_id"], outbound.run_on)
                if spec_for(outbound.template).encloses == "statement" and key not in scheduled:
                    scheduled.add(key)
                    ledger = account_ledger(account_id=key[1], as_of=key[2])
                    extra.append((key, ledger))
                    htmls.append(statement_html(ledger))
            statements.append(extra)
            yield [pages[o.pk][1].html for o in chunk] + htmls

    files: list[Path] = []
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
                data = with_enclosures(letter, enclosures_for(outbound, actor=actor,
                                                              cache=enclosed))  # fmt: skip
                result.letters.append(_letter_rendered(outbound, rendered, data, actor))
                path = output / "letters" / Path(outbound.document_name).name
                path.write_bytes(data)
                files.append(path)
        done += len(chunk)
        if progress:
            progress(done, len(queued))
    _print_file_and_manifest(result, files, output)
    return result


def _print_file_and_manifest(result: BatchResult, files: list[Path], output: Path) -> None:
    # The manifest first: it is what the post office needs, and it can be written again
    # (`reprint`) if the print file fails.
    on = result.on.isoformat()
    result.manifest = _free(output / f"manifest-{on}.csv")
    with result.manifest.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for line, letter in enumerate(result.letters, start=1):
            writer.writerow({**letter, "line": line})
    result.print_file = _free(output / f"print-{on}.pdf")
    _merge(files, result.print_file)


def _reprint(*, on: date, output: Path) -> BatchResult:
    from arrears.correspondence.archive import archive_read

    result = BatchResult(on=on)
    letters = list(Outbound.objects.filter(
        run_on__lte=on, channel__in=LETTER_CHANNELS, status="rendered",
        document__isnull=False).select_related("document", "account").order_by(
        "run_on", "account_id", "id"))  # fmt: skip
    if not letters:
        return result
    (output / "letters").mkdir(parents=True, exist_ok=True)
    files = []
    for outbound in letters:
        assert outbound.document is not None
        path = output / "letters" / Path(outbound.document.name).name
        path.write_bytes(archive_read(outbound.document))
        files.append(path)
        result.letters.append(
            _manifest_line(outbound, outbound.document.name, outbound.account.account_id)
        )
    _print_file_and_manifest(result, files, output)
    return result


def _letter_rendered(outbound: Outbound, rendered: RenderedMessage, data: bytes, actor: str
                     ) -> dict[str, Any]:  # fmt: skip
    document = archive_store(data=data, name=outbound.document_name, kind="letter",
                             content_type="application/pdf")  # fmt: skip
    context = rendered.context
    now = dj_timezone.now()
    outbound.address = "\n".join([context["addressee"]["name"], *context["addressee"]["lines"]])
    updated = Outbound.objects.filter(pk=outbound.pk, status="queued").update(
        status="rendered", document=document, rendered_at=now, address=outbound.address,
        template_version=rendered.template_version, language=rendered.language,
    )  # fmt: skip
    if updated != 1:  # another batch printed it meanwhile: never twice
        raise ValidationError(f"letter L{outbound.pk} was printed by another batch")
    TimelineEvent.objects.create(
        account_id=outbound.account_id, at=now, on=outbound.run_on, kind="letter.rendered",
        actor=actor,
        summary=f"{outbound.template} v{rendered.template_version} ({rendered.language}) "
        f"printed for {context['addressee']['name']}: {document.name}",
        detail={"letter_id": outbound.pk, "key": outbound.key, "document": document.name,
                "sha256": document.sha256, "template": outbound.template,
                "template_version": rendered.template_version, "language": rendered.language,
                "channel": outbound.channel},
    )  # fmt: skip
    return _manifest_line(outbound, document.name, context["account"]["account_id"])


def _manifest_line(outbound: Outbound, document: str, account_id: str) -> dict[str, Any]:
    """The firm-sheet line of a printed letter, from the addressee block as printed."""
    name, *lines = outbound.address.split("\n")
    street = lines[:-1] if len(lines) > 1 else lines
    last = lines[-1] if len(lines) > 1 else ""
    city, _, rest = last.partition(",")
    state, _, postal = rest.strip().partition(" ")
    return {"letter_id": outbound.pk, "article_number": outbound.article_number,
            "postage_class": outbound.postage_class or POSTAGE.get(outbound.channel, ""),
            "addressee": name, "address": ", ".join(street), "city": city.strip(),
            "state": state.strip(), "postal_code": postal.strip(),
            "account_id": account_id, "date": outbound.run_on.isoformat(),
            "document": document}  # fmt: skip


def _merge(files: list[Path], target: Path) -> None:
    """One print file of every letter, in order, written as it reads them (memory stays flat)."""
    from arrears.correspondence.pdfs import concat_pdfs

    concat_pdfs(files, target)


# ---- proof of mailing and returned mail ----------------------------------------------------


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
            errors.append(f"{where}, column article_number: {number} is also on line "
                          f"{seen[number]}")  # fmt: skip
            continue
        if number:
            seen[number] = line
        if outbound.status in ("mailed", "returned"):
            if outbound.article_number != number:
                errors.append(f"{where}, column article_number: letter L{outbound.pk} was "
                              f"mailed with {outbound.article_number or 'no number'}")  # fmt: skip
            continue
        if outbound.status != "rendered":
            errors.append(f"{where}, column letter_id: letter L{outbound.pk} is not printed")
            continue
        plan.append((outbound, number, day))
    taken = dict(Outbound.objects.filter(article_number__in=list(seen)).exclude(
        pk__in=[o.pk for o, _, _ in plan]).values_list("article_number", "pk"))  # fmt: skip
    for outbound, number, _ in plan:
        if number in taken and taken[number] != outbound.pk:
            errors.append(f"{manifest}: article number {number} is already on letter "
                          f"L{taken[number]}")  # fmt: skip
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
            account_id=outbound.account_id, at=now, on=day, kind="letter.mailed", actor=actor,
            summary=f"{outbound.template} mailed by {how}",
            detail={"letter_id": outbound.pk, "key": outbound.key,
                    "article_number": number, "postage_class": outbound.postage_class,
                    "document": outbound.document_name},
        )  # fmt: skip
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
        raise ValidationError(f"letter L{outbound.pk} was already recorded returned on "
                              f"{outbound.returned_on}")  # fmt: skip
    if outbound.status not in ("mailed", "rendered"):
        raise ValidationError(f"letter L{outbound.pk} was never printed")
    lines = outbound.address.split("\n")[1:]
    key = lines_key(lines)
    outbound.status = "returned"
    outbound.returned_on = on
    outbound.save(update_fields=["status", "returned_on"])
    now = dj_timezone.now()
    row = ReturnedMail.objects.create(
        party_id=outbound.party_id, account_id=outbound.account_id, outbound=outbound,
        address_key=key, address="\n".join(lines), returned_on=on, reason=reason,
        recorded_by=actor, recorded_at=now,
    )  # fmt: skip
    TimelineEvent.objects.create(
        account_id=outbound.account_id, at=now, on=on, kind="letter.returned", actor=actor,
        summary=f"{outbound.template} returned undeliverable"
        + (f" ({reason})" if reason else "") + "; the address is marked bad",
        detail={"letter_id": outbound.pk, "article_number": outbound.article_number,
                "address": "\n".join(lines), "reason": reason},
    )  # fmt: skip
    return row


# ---- company templates -----------------------------------------------------------------------


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
        raise ValidationError(f"a template's language is one of {', '.join(LANGUAGES)}",
                              field="language")  # fmt: skip
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,99}", name):
        raise ValidationError(f"a template name is lower-case letters, digits and dashes: {name!r}",
                              field="name")  # fmt: skip
    for part, source in (("subject", subject), ("body", body)):
        try:
            engines["django"].from_string(source)
        except TemplateSyntaxError as exc:
            raise ValidationError(f"the template's {part} does not compile: {exc}",
                                  field=part) from None  # fmt: skip
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
