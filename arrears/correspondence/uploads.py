"""Documents added to an account's history by hand: a signed lease, a proof of service, a
tenant's letter (PDF, PNG or JPEG image, or an email file, .eml).

Invariants:
- what a file is, is read from its bytes (its magic number, and for an email its headers), never
  from its name: an HTML page named lease.pdf is refused;
- a PDF that would run something when opened (JavaScript, a launch action, an embedded file,
  an XFA form) is refused, and so is one that cannot be read or is encrypted;
- the name it came with is kept only as a label, reduced to a plain file name (no folders, no
  control characters); the archive names it by the account and its SHA-256, so no name given
  can reach outside the archive;
- the bytes are archived once (`archive_store`, by SHA-256): the same file added again to the
  same account writes nothing; added to another account, it is named on that one's timeline;
- a `document.added` row on the account's timeline names it, so whoever may see the account may
  read it (`access.selectors.document_visible`), no one else.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from email import policy
from email.parser import BytesHeaderParser
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from arrears.core.errors import NotFoundError, ValidationError
from arrears.correspondence.archive import archive_store, sha256_of
from arrears.correspondence.models import Document
from arrears.ledger.models import Account, TimelineEvent

MAX_BYTES = 10 * 1024 * 1024  # settings.ARREARS_UPLOAD_MAX_BYTES overrides it
TITLE_LIMIT = 200
KINDS = {  # content type: the archive name's extension
    "application/pdf": "pdf",
    "image/png": "png",
    "image/jpeg": "jpg",
    "message/rfc822": "eml",
}
# What a document added by hand is: the referral checklists (legal/checklists.toml) name these.
DOCUMENT_KINDS = {
    "other": _("other document"),
    "lease": _("signed lease"),
    "guaranty": _("guaranty"),
    "late_rent_notice": _("late-rent notice"),
    "rent_demand": _("rent demand"),
    "three_day_notice": _("3-day notice"),
    "guarantor_notice": _("notice to the guarantor"),
    "plan_notice": _("notice of a broken plan"),
    "proof_of_mailing": _("proof of mailing"),
    "proof_of_service": _("proof of service"),
    "registration": _("building registration"),
    "invoice": _("invoice copy"),
    "statement": _("statement of account"),
    "correspondence": _("letters and emails"),
}
# PDF names that make a document act when opened or read: scripts, launching a program,
# files carried inside, forms that run code (XFA), rich media.
PDF_ACTIVE = frozenset(
    {"/JavaScript", "/JS", "/Launch", "/EmbeddedFile", "/EmbeddedFiles", "/XFA", "/RichMedia"}
    | {"/SubmitForm", "/ImportData", "/GoToE"}
)


@dataclass(frozen=True)
class DocumentAdded:
    document: Document
    event: TimelineEvent | None  # None: this very file was on the account's history already
    filename: str


def plain_filename(name: str) -> str:
    """The file's name as a label: its last path part, letters, digits, spaces, dots, dashes
    and underscores only, at most 100 characters ("../../etc/passwd" → "passwd")."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = unicodedata.normalize("NFKC", base)
    base = re.sub(r"[^\w .\-]", "_", base).strip(" .")
    return base[:100] or "document"


def sniff(data: bytes) -> str:
    """The content type the bytes are (one of KINDS), or ValidationError."""
    if data.startswith(b"%PDF-"):
        _pdf_check(data)
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if _is_email(data):
        return "message/rfc822"
    raise ValidationError(
        _("the file is not a PDF, a PNG or JPEG image, or an email (.eml)"),
        code="document_type_refused",
        field="file",
    )


def _is_email(data: bytes) -> bool:
    """An RFC 5322 message: text, its first line a header, a From and a Date or Subject, and
    nothing that a browser would take for a page."""
    if b"\x00" in data[:65536]:
        return False
    head = data[:65536].lstrip()
    if not re.match(rb"[A-Za-z0-9-]+:[ \t]", head):
        return False
    if re.search(rb"<\s*(html|script|!doctype|svg|iframe)", data[:4096], re.IGNORECASE):
        return False
    headers = BytesHeaderParser(policy=policy.compat32).parse(io.BytesIO(data))
    return bool(headers.get("From")) and bool(headers.get("Date") or headers.get("Subject"))


def _pdf_names(data: bytes) -> set[str]:
    """Every name in the raw bytes, `#xx` escapes decoded (/J#61vaScript is /JavaScript)."""
    names = set()
    for raw in re.findall(rb"/(?:[A-Za-z0-9_.+-]|#[0-9A-Fa-f]{2})+", data):
        names.add(re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m[1], 16)]), raw).decode())
    return names


def _pdf_check(data: bytes) -> None:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    _refuse_active(_pdf_names(data) & PDF_ACTIVE)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise ValidationError(
                _("an encrypted PDF cannot be checked: add it unencrypted"),
                code="document_pdf_encrypted",
                field="file",
            )
        # Object streams hide names from the raw bytes: read every object through pypdf too.
        numbers = set(reader.xref_objStm) | {n for gen in reader.xref.values() for n in gen}
        active: set[str] = set()
        for number in sorted(numbers):
            active |= _keys(_object(reader, number)) & PDF_ACTIVE
        if not reader.pages:
            raise PdfReadError("no pages")
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise ValidationError(
            _("the PDF cannot be read: {reason}"),
            code="document_pdf_unreadable",
            field="file",
            reason=str(exc)[:100],
        ) from None
    _refuse_active(active)


def _refuse_active(active: set[str]) -> None:
    if active:
        raise ValidationError(
            _("a PDF that runs something when opened ({what}) is refused"),
            code="document_pdf_active",
            field="file",
            what=", ".join(sorted(active)),
        )


def _object(reader: Any, number: int) -> Any:
    try:
        return reader.get_object(number)
    except Exception:  # an object that cannot be read holds no name
        return None


def _keys(obj: Any) -> set[str]:
    """The names a PDF object holds as keys or values (dictionaries, one level deep)."""
    from pypdf.generic import DictionaryObject, NameObject

    out: set[str] = set()
    if isinstance(obj, DictionaryObject):
        for key, value in obj.items():
            out.add(str(key))
            if isinstance(value, NameObject):
                out.add(str(value))
    return out


def max_upload_bytes() -> int:
    """The largest file accepted (ARREARS_UPLOAD_MAX_BYTES, 10 MB by default)."""
    return int(getattr(settings, "ARREARS_UPLOAD_MAX_BYTES", MAX_BYTES))


@transaction.atomic
def document_add(
    *,
    account_id: str,
    data: bytes,
    filename: str,
    title: str,
    actor: str,
    on: date,
    kind: str = "other",
) -> DocumentAdded:
    """Add a file to the account's history: checked, archived once by its SHA-256, named on the
    account's timeline with its `kind` (DOCUMENT_KINDS: what the referral checklists look for).
    Raises NotFoundError (no account) or ValidationError (empty, too large, of a type refused, a
    PDF that runs something, no title, a kind not known)."""
    account = Account.objects.filter(account_id=account_id).first()
    if account is None:
        raise NotFoundError(
            _("no account {account_id!r}"), code="account_not_found", account_id=account_id
        )
    limit = max_upload_bytes()
    if not data or len(data) > limit:
        raise ValidationError(
            _("a document is 1 byte to {limit} MB"),
            code="document_size",
            field="file",
            limit=limit // (1024 * 1024),
        )
    title = " ".join(title.split())[:TITLE_LIMIT]
    if not title:
        raise ValidationError(
            _("a document needs a title (a signed lease, a proof of service…)"),
            code="document_title_missing",
            field="title",
        )
    kind = kind or "other"
    if kind not in DOCUMENT_KINDS:
        raise ValidationError(
            _("a document is one of {kinds}, not {kind}"),
            code="document_kind",
            field="kind",
            kinds=", ".join(DOCUMENT_KINDS),
            kind=kind[:40],
        )
    content_type = sniff(data)
    digest = sha256_of(data)
    name = f"uploads/{account.account_id}/{digest[:16]}.{KINDS[content_type]}"
    document = archive_store(data=data, name=name, kind="upload", content_type=content_type)
    label = plain_filename(filename)
    # The same file again is nothing new, unless it is now said to be something else (a scan
    # first added as "other", then as the proof of service it is): a row for that kind.
    same = TimelineEvent.objects.filter(
        account=account, kind="document.added", detail__document=document.name
    )
    if (same if kind == "other" else same.filter(detail__kind=kind)).exists():
        return DocumentAdded(document, None, label)
    event = TimelineEvent.objects.create(
        account=account,
        at=dj_timezone.now(),
        on=on,
        kind="document.added",
        actor=actor,
        summary=(
            f"document added: {title} ({label}, {content_type}, {len(data):,} bytes"
            + (f", {kind.replace('_', ' ')})" if kind != "other" else ")")
        )[:500],
        detail={
            "document": document.name,
            "kind": kind,
            "sha256": document.sha256,
            "title": title,
            "filename": label,
            "content_type": content_type,
            "size": len(data),
        },
    )
    return DocumentAdded(document, event, label)
