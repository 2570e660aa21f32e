"""Referral readiness and the case file: what the referral checklist (arrears.legal.checklists)
asks of an account and what its book holds of it; the case file built for the firm, one ZIP; the
referral made with it (`referral_send`, the one service of the act `referral.make`) and the case
file emailed to the firm (`case_file_email`).

It lives in dunning, above legal, plans, disputes and correspondence (as `documents` does): the
checklist reads the letters sent and the documents added (correspondence, the timeline), the
plans (plans), and the case file carries the account analysis (disputes).

Invariants:
- a person decides to refer; the daily run only recommends it (nothing here is called by it);
- an item the checklist finds missing blocks the referral unless a reason is given: then the
  case is made `sent` and what was missing is named in its manifest, on the timeline and (with
  the reason) in the audit;
- every file of the ZIP is in the archive (by SHA-256), the ZIP too (`Referral.packet`); the
  manifest (`Referral.packet_manifest`) names every file of the ZIP with its SHA-256, the index
  first, and the index PDF lists every other file with its SHA-256;
- a file is in the ZIP once, however many items it holds; the ZIP's entries carry the case's
  date, not the clock, so the same files give the same bytes;
- the case file goes to the firm's email once: its outbound row's key is the case's.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone as dj_timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from arrears.core.errors import DomainError, ValidationError
from arrears.correspondence.archive import archive_read, archive_store, sha256_of
from arrears.correspondence.mail_out import (
    Attachment,
    OutgoingEmail,
    Sender,
    email_prepare,
    outbox_send,
    smtp_from_env,
)
from arrears.correspondence.models import Document, Outbound
from arrears.dunning.readiness import EMAIL_STEP as EMAIL_STEP
from arrears.dunning.readiness import checklist_json as checklist_json
from arrears.dunning.readiness import referral_checklist as referral_checklist
from arrears.dunning.readiness import referral_missing as referral_missing
from arrears.ledger.models import Account, TimelineEvent
from arrears.ledger.selectors import account_ledger
from arrears.legal import services as legal
from arrears.legal.checklists import (
    Item,
    Letter,
    Readiness,
)
from arrears.legal.models import Firm, Referral
from arrears.plans.models import Plan

REASON_LIMIT = 500
EXTENSIONS = {
    "application/pdf": "pdf",
    "image/png": "png",
    "image/jpeg": "jpg",
    "message/rfc822": "eml",
}


@dataclass
class Filed:
    """One file of the case file."""

    name: str  # in the ZIP
    data: bytes
    content_type: str
    source: str  # index, generated, letter, upload
    what: str  # what it is, for the index
    items: list[str] = field(default_factory=list)  # the checklist items it holds
    document: str = ""  # its archive name

    @property
    def sha256(self) -> str:
        return sha256_of(self.data)


def _pdf(title: str, sections: list[dict[str, Any]], subtitle: str = "") -> bytes:
    """A plain tabular document (plan history, invoices, correspondence) as PDF."""
    from arrears.core.pdf import render_pdf

    html = render_to_string(
        "legal/case_table.html",
        {
            "title": title,
            "subtitle": subtitle,
            "sections": sections,
            "company": dict(settings.ARREARS_COMPANY),
        },
    )
    return render_pdf(html)


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:,.2f}"


def _plan_history(account: Account, on: date) -> bytes:
    from arrears.plans.selectors import tracking_for

    plans = list(Plan.objects.filter(account=account).order_by("made_on", "pk"))
    tracked = tracking_for(plans, on)
    sections = []
    for p in plans:
        t = tracked[p.pk]
        sections.append(
            {
                "heading": f"Plan {p.pk}: {_money(p.amount)} made {p.made_on} by {p.created_by}, "
                f"{p.status}" + (f" on {p.ended_on}" if p.ended_on else ""),
                "note": p.end_reason,
                "headers": ["installment", "due", "amount", "paid", "status"],
                "rows": [
                    [
                        line.label,
                        str(line.due_on),
                        _money(line.amount),
                        _money(line.paid),
                        line.status,
                    ]
                    for line in t.lines
                ],
            }
        )
    return _pdf(f"Payment plans of {account.account_id}", sections, f"as of {on}")


def _invoices(account: Account, on: date) -> bytes:
    ledger = account_ledger(account_id=account.account_id, as_of=on, account=account)
    rows = [
        [
            line.txn_id,
            line.reference,
            str(line.posted_on),
            str(line.due_on or ""),
            line.code,
            _money(line.amount),
            _money(line.open_amount),
        ]
        for line in ledger.lines
        if line.type == "charge"
    ]
    headers = ["charge", "invoice", "posted", "due", "code", "amount", "open"]
    return _pdf(
        f"Invoices of {account.account_id}",
        [{"heading": "", "headers": headers, "rows": rows}],
        f"as of {on}",
    )


def _correspondence_log(account: Account, on: date) -> bytes:
    rows = [
        [
            f"L{o.pk}",
            o.template,
            o.channel,
            o.party.name if o.party else o.recipient,
            str(o.dated_on or o.run_on),
            o.status,
            str(o.mailed_on or ""),
            o.article_number,
        ]
        for o in Outbound.objects.filter(account=account, run_on__lte=on)
        .exclude(step=EMAIL_STEP)
        .select_related("party")
        .order_by("run_on", "pk")
    ]
    headers = ["letter", "template", "channel", "to", "dated", "status", "mailed", "article no."]
    return _pdf(
        f"Correspondence with {account.account_id}",
        [{"heading": "", "headers": headers, "rows": rows}],
        f"to {on}",
    )


def _generated(what: str, account: Account, on: date) -> bytes:
    """A document the checklist has built from the book as of `on`."""
    if what == "ledger":
        from arrears.correspondence.pdfs import letter_pdf
        from arrears.correspondence.statements import statement_html

        ledger = account_ledger(account_id=account.account_id, as_of=on, account=account)
        return letter_pdf(statement_html(ledger))
    if what == "analysis":
        from arrears.disputes.documents import analysis_pdf
        from arrears.disputes.selectors import account_analysis
        from arrears.dunning.selectors import analysis_rules

        rules = analysis_rules(account_id=account.account_id, on=on)
        return analysis_pdf(account_analysis(account_id=account.account_id, end=on, rules=rules))
    if what == "plan_history":
        return _plan_history(account, on)
    if what == "invoices":
        return _invoices(account, on)
    return _correspondence_log(account, on)


def _letter_what(letter: Letter) -> str:
    how = {"certified_letter": "certified mail", "letter": "mail", "email": "email"}.get(
        letter.channel, letter.channel
    )
    text = f"{letter.template} to {letter.party} by {how}"
    if letter.mailed_on:
        text += f", mailed {letter.mailed_on}"
    if letter.article_number:
        text += f", article {letter.article_number}"
    return text


def _files(account: Account, readiness: Readiness, on: date) -> list[Filed]:
    """The case file's documents in the checklist's order, each file once."""
    by_sha: dict[str, Filed] = {}
    files: list[Filed] = []

    def add(item: Item, data: bytes, content_type: str, source: str, what: str, doc: str) -> None:
        digest = sha256_of(data)
        if digest in by_sha:
            if item.key not in by_sha[digest].items:
                by_sha[digest].items.append(item.key)
            return
        count = sum(1 for f in files if item.key in f.items)
        ext = EXTENSIONS.get(content_type, "bin")
        suffix = f"-{count + 1}" if count else ""
        name = f"{len(files) + 1:02d}-{item.key.replace('_', '-')}{suffix}.{ext}"
        filed = Filed(name, data, content_type, source, what, [item.key], doc)
        by_sha[digest] = filed
        files.append(filed)

    built: dict[str, bytes] = {}
    for state in readiness.items:
        if not state.applies:
            continue
        item = state.item
        if state.generated:
            if state.generated not in built:
                built[state.generated] = _generated(state.generated, account, on)
            add(item, built[state.generated], "application/pdf", "generated", item.title, "")
        for letter in state.letters:
            doc = Document.objects.get(name=letter.document)
            add(
                item,
                archive_read(doc),
                doc.content_type,
                "letter",
                _letter_what(letter),
                doc.name,
            )
        for upload in state.uploads:
            doc = Document.objects.get(name=upload.document)
            what = f"{upload.title} (added {upload.added_on})"
            add(item, archive_read(doc), doc.content_type, "upload", what, doc.name)
    # what the book built is archived too: every file of the case file is in the archive
    for f in files:
        if not f.document:
            f.document = archive_store(
                data=f.data,
                name=f"cases/{account.account_id}/{f.sha256[:16]}-{f.name}",
                kind="case_document",
                content_type=f.content_type,
            ).name
    return files


def _index_pdf(
    *,
    case: Referral,
    firm: Firm,
    readiness: Readiness,
    files: list[Filed],
    override: str,
    on: date,
) -> bytes:
    """The index: a cover letter to the firm, the account's summary, the checklist and the
    table of documents with their SHA-256."""
    from arrears.core.pdf import render_pdf

    account = case.account
    ledger = account_ledger(account_id=account.account_id, as_of=on, account=account)
    names = {
        k: [f.name for f in files if k in f.items] for s in readiness.items for k in [s.item.key]
    }
    html = render_to_string(
        "legal/case_index.html",
        {
            "company": dict(settings.ARREARS_COMPANY),
            "case": case,
            "firm": firm,
            "account": account,
            "on": on,
            "checklist": readiness.checklist,
            "items": [
                {
                    "title": s.item.title,
                    "law": s.item.law,
                    "state": "held" if s.held else ("missing" if s.applies else "not applicable"),
                    "files": names.get(s.item.key, []),
                }
                for s in readiness.items
            ],
            "parties": [(ap.party.name, ap.role, ap.party.party_id) for ap in ledger.parties],
            "buckets": list(zip(ledger.buckets.labels, ledger.aged.buckets, strict=True)),
            "credit": ledger.aged.credit,
            "balance": ledger.balance,
            "referred": case.balance_referred,
            "files": files,
            "missing": [i.title for i in readiness.missing],
            "override": override,
        },
    )
    return render_pdf(html)


def _zip(files: list[Filed], on: date) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for f in files:
            info = zipfile.ZipInfo(f.name, date_time=(on.year, on.month, on.day, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, f.data)
    return out.getvalue()


@dataclass(frozen=True)
class CaseFileMade:
    case: Referral
    email_key: str  # the outbound row of the email to the firm ("" if it has no email)


def referral_send(
    *,
    account: Account,
    firm: str,
    on: date,
    actor: str,
    note: str = "",
    override: str = "",
) -> CaseFileMade:
    """Refer `account` to `firm` with its case file: the checklist checked, the case made
    (`legal.services.referral_make`, status `sent`), the ZIP built and archived, its name and
    manifest on the case, a `case.file` row on the timeline, and its email to the firm prepared
    (sent by `case_file_email` once this is committed).

    Raises NotFoundError (no such firm), ValidationError `referral_incomplete` naming what is
    missing when something is and no `override` reason is given, or what `referral_make` raises.
    """
    known = legal.firm_takes(account=account, firm=firm)
    reason = " ".join(override.split())[:REASON_LIMIT]
    readiness = referral_checklist(account)
    missing = readiness.missing
    if missing and not reason:
        language = get_language() or "en"
        raise ValidationError(
            _(
                "the case file lacks: {missing}. Add them to the account, or give the reason "
                "to refer it without them"
            ),
            code="referral_incomplete",
            field="override",
            missing="; ".join(i.title_in(language) for i in missing),
            items=[i.key for i in missing],
        )
    with transaction.atomic():
        case = legal.referral_make(
            account=account, firm=known.name, on=on, actor=actor, note=note, status="sent"
        )
        files = _files(account, readiness, on)
        index = _index_pdf(
            case=case, firm=known, readiness=readiness, files=files, override=reason, on=on
        )
        index_doc = archive_store(
            data=index,
            name=f"cases/{account.account_id}/CASE-{case.pk}-{sha256_of(index)[:16]}-index.pdf",
            kind="case_document",
            content_type="application/pdf",
        )
        indexed = Filed(
            "00-index.pdf", index, "application/pdf", "index", "index", [], index_doc.name
        )
        files = [indexed, *files]
        data = _zip(files, on)
        digest = sha256_of(data)
        packet = archive_store(
            data=data,
            name=f"cases/{account.account_id}/CASE-{case.pk}-{digest[:16]}.zip",
            kind="case_file",
            content_type="application/zip",
        )
        manifest = {
            "checklist": readiness.checklist.key,
            "sha256": digest,
            "documents": [
                {
                    "name": f.name,
                    "sha256": f.sha256,
                    "source": f.source,
                    "items": f.items,
                    "document": f.document,
                }
                for f in files
            ],
            "missing": [i.key for i in missing],
            "override": reason,
        }
        Referral.objects.filter(pk=case.pk).update(packet=packet.name, packet_manifest=manifest)
        case.packet, case.packet_manifest = packet.name, manifest
        summary = f"case file for {known.name}: {len(files)} documents ({packet.name})"
        if missing:
            summary += f"; sent without {', '.join(i.key for i in missing)}: {reason}"
        TimelineEvent.objects.create(
            account=account,
            at=dj_timezone.now(),
            on=on,
            kind="case.file",
            actor=actor,
            summary=summary[:500],
            detail={
                "case": case.pk,
                "firm": known.name,
                "document": packet.name,
                "sha256": digest,
                "documents": [f.name for f in files],
                "missing": [i.key for i in missing],
                "override": reason,
            },
        )
        email_key = _email_prepare(case, known, data, on) if known.email else ""
    return CaseFileMade(case, email_key)


def _zip_filename(case: Referral) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", case.account.account_id)
    return f"case-{case.pk}-{safe}.zip"


def _email_prepare(case: Referral, firm: Firm, data: bytes, on: date) -> str:
    """The case file's email to the firm, built and archived (the ZIP attached): once a case."""
    key = f"case:{case.pk}:file"
    row = Outbound.objects.filter(key=key).first()
    if row is None:
        row = Outbound.objects.create(
            key=key,
            account=case.account,
            party=None,
            channel="email",
            template="case-file",
            step=EMAIL_STEP,
            run_on=on,
            status="queued",
            document_name="",
            created_at=dj_timezone.now(),
            recipient=firm.email,
            detail={"case": case.pk, "firm": firm.name},
        )
    sender = Sender.from_env()
    account_id = case.account.account_id
    balance = _money(case.balance_referred)
    email_prepare(
        outbound=row,
        sender=sender.address,
        domain=sender.domain,
        sender_name=sender.name,
        email=OutgoingEmail(
            to=firm.email,
            to_name=firm.name,
            subject=f"Referral: account {account_id}, case {case.pk}",
            text=(
                f"{firm.name},\n\nWe refer account {account_id} to you (case {case.pk}), "
                f"balance referred {balance}. Its case file is attached: the index (00-index.pdf) "
                "lists every document with its SHA-256.\n"
            ),
            attachments=[Attachment(_zip_filename(case), data, "application/zip")],
        ),
    )
    return key


def case_file_email(*, key: str, actor: str) -> str:
    """Send the case file's email prepared by `referral_send` (after its commit): at once when
    EMAIL_URL is set, else it waits for `arrears mail send`. Returns what happened; never raises
    (the case is made either way; the outbound row and the timeline say how the email went)."""
    if not key:
        return ""
    if not getattr(settings, "EMAIL_URL", ""):
        return "the case file's email waits for `arrears mail send` (EMAIL_URL is not set)"
    try:
        report = outbox_send(settings=smtp_from_env(), keys=[key], actor=actor)
    except DomainError as exc:
        return f"the case file was not emailed: {exc.message}"
    row = Outbound.objects.get(key=key)
    if report.sent:
        return f"case file emailed to {row.recipient}"
    why = row.error or report.error or row.status
    return f"the case file was not emailed to {row.recipient}: {why}"


def packet_of(case: Referral) -> tuple[str, bytes]:
    """The case file's ZIP (its download name and bytes), read back from the archive."""
    doc = Document.objects.filter(name=case.packet).first() if case.packet else None
    if doc is None:
        from arrears.core.errors import NotFoundError

        raise NotFoundError(
            _("case {case_id} has no case file"), code="case_no_packet", case_id=case.pk
        )
    return _zip_filename(case), archive_read(doc)
