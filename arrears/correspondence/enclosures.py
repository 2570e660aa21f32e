"""What a letter or an email encloses besides itself: the statement of account of a monthly
statement (its template `encloses = "statement"`), or the archived documents a letter queued by
hand names (`Outbound.detail["enclosures"]`, e.g. the account analysis that answers a rejected
dispute).

A letter's PDF is the letter's own pages followed by its enclosures' pages, so the print file and
the archive hold what goes in the envelope; an email attaches each enclosure as a PDF of its own.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django.utils.translation import gettext_lazy as _

from arrears.core.errors import NotFoundError
from arrears.correspondence.archive import archive_read
from arrears.correspondence.catalog import spec_for
from arrears.correspondence.models import Document, Outbound


@dataclass(frozen=True)
class Enclosure:
    filename: str
    data: bytes


def enclosures_for(
    outbound: Outbound, *, actor: str, cache: dict[Any, Enclosure] | None = None
) -> list[Enclosure]:
    """The enclosures of one queued letter or email, in order; NotFoundError for a named
    document the archive does not hold. A statement is rendered (and archived, on the timeline)
    once per account and date, however many letters of the batch enclose it."""
    out = []
    for name in (outbound.detail or {}).get("enclosures", []):
        document = Document.objects.filter(name=name).first()
        if document is None:
            raise NotFoundError(
                _("{key}: the enclosed document {name} is not archived"),
                code="enclosure_not_archived",
                key=outbound.key,
                name=name,
            )
        out.append(Enclosure(Path(name).name, archive_read(document)))
    if spec_for(outbound.template).encloses == "statement":
        on = outbound.dated_on or outbound.run_on  # the statement as of the letter's date
        out.append(
            _statement(outbound.account.account_id, on, actor, {} if cache is None else cache)
        )
    return out


def statement_key(account_id: str, on: date) -> tuple[str, str, date]:
    """The cache key of an account's statement as of `on` (one per batch)."""
    return ("statement", account_id, on)


def statement_enclosure(account_id: str, on: date, data: bytes) -> Enclosure:
    return Enclosure(f"statement-{account_id}-{on.isoformat()}.pdf", data)


def _statement(account_id: str, on: date, actor: str, cache: dict[Any, Enclosure]) -> Enclosure:
    from arrears.correspondence.statements import statement_pdf

    key = statement_key(account_id, on)
    if key not in cache:
        statement = statement_pdf(account_id=account_id, as_of=on, actor=actor)
        cache[key] = statement_enclosure(account_id, on, statement.data)
    return cache[key]


def with_enclosures(letter: bytes, enclosures: list[Enclosure]) -> bytes:
    """The letter's PDF followed by its enclosures' pages, as one PDF (the same inputs give the
    same bytes: `pdfs.concat_pdfs` writes no date or random id)."""
    if not enclosures:
        return letter
    from arrears.correspondence.pdfs import concat_pdfs

    with tempfile.TemporaryDirectory(prefix="arrears-enclose-") as folder:
        paths = []
        for n, data in enumerate([letter, *(e.data for e in enclosures)]):
            path = Path(folder) / f"{n}.pdf"
            path.write_bytes(data)
            paths.append(path)
        target = Path(folder) / "letter.pdf"
        concat_pdfs(paths, target)
        return target.read_bytes()
