"""The mailboxes email comes in from: a Maildir folder, or an IMAP folder (IMAP_URL), each read
without changing what a person sees there (an IMAP message is marked filed by a keyword).
"""

from __future__ import annotations

import contextlib
import imaplib
import mailbox
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.utils.translation import gettext_lazy as _

from arrears.core.errors import ValidationError


@dataclass(frozen=True)
class Raw:
    """One message as it came from the mailbox, with the name it has there."""

    source: str
    data: bytes


def maildir_read(path: str | Path) -> Iterator[Raw]:
    """Every message of a Maildir folder (new and cur), oldest name first. Read-only."""
    folder = Path(path)
    if not (folder / "cur").is_dir() and not (folder / "new").is_dir():
        raise ValidationError(
            _("{folder} is not a Maildir folder (no cur/ or new/ in it)"),
            code="maildir_not_found",
            folder=str(folder),
        )
    box = mailbox.Maildir(str(folder), factory=None, create=False)
    for key in sorted(box.keys()):
        with box.get_file(key) as stream:
            yield Raw(f"maildir:{folder.name}/{key}", stream.read())


@dataclass(frozen=True)
class ImapSettings:
    host: str
    port: int
    tls: bool
    username: str
    password: str = field(repr=False)
    folder: str = "INBOX"
    cafile: str = ""
    starttls: bool = False


def parse_imap_url(url: str) -> ImapSettings:
    """IMAP_URL: `imaps://user:pass@host[:993][/FOLDER][?cafile=PATH]` (TLS), or
    `imap://user:pass@host[:143][/FOLDER][?starttls=yes]`. ValidationError for anything else."""
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps"):
        raise ValidationError(
            _("IMAP_URL must start imap:// or imaps://, not {scheme!r}"),
            code="imap_url_scheme",
            scheme=url.split(":")[0],
        )
    if not parts.hostname or not parts.username:
        raise ValidationError(
            _("IMAP_URL needs a user and a host: imaps://user:pass@host/INBOX"),
            code="imap_url_incomplete",
        )
    query = dict(q.split("=", 1) for q in parts.query.split("&") if "=" in q)
    tls = parts.scheme == "imaps"
    return ImapSettings(
        host=parts.hostname,
        port=parts.port or (993 if tls else 143),
        tls=tls,
        username=unquote(parts.username),
        password=unquote(parts.password or ""),
        folder=unquote(parts.path.strip("/")) or "INBOX",
        cafile=unquote(query.get("cafile", "")),
        starttls=query.get("starttls", "no").lower() in ("yes", "true", "1"),
    )


FILED_KEYWORD = "$ArrearsFiled"


class ImapMailbox:
    """The messages of one IMAP folder not yet marked filed; `mark_filed` flags one (a keyword,
    so that a person reading the mailbox does not change what is fetched)."""

    def __init__(self, settings: ImapSettings) -> None:
        s = settings
        context = ssl.create_default_context(cafile=s.cafile or None)
        if s.tls:
            self.imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                s.host, s.port, ssl_context=context, timeout=30
            )
        else:
            self.imap = imaplib.IMAP4(s.host, s.port, timeout=30)
            if s.starttls:
                self.imap.starttls(ssl_context=context)
        self.imap.login(s.username, s.password)
        status, _data = self.imap.select(_quote(s.folder))
        if status != "OK":
            raise ValidationError(
                _("IMAP: no folder {folder!r}"), code="imap_folder_not_found", folder=s.folder
            )
        self.name = f"imap:{s.username}@{s.host}/{s.folder}"

    def read(self) -> Iterator[tuple[bytes, Raw]]:
        status, found = self.imap.uid("SEARCH", None, "UNKEYWORD", FILED_KEYWORD)  # type: ignore[arg-type]
        if status != "OK":
            raise ValidationError(
                _("IMAP search failed: {found}"), code="imap_search_failed", found=repr(found)
            )
        for uid in (found[0] or b"").split():
            status, parts = self.imap.uid("FETCH", uid.decode(), "(BODY.PEEK[])")
            data = next((p[1] for p in parts if isinstance(p, tuple)), None)
            if status == "OK" and data is not None:
                yield uid, Raw(f"{self.name};uid={uid.decode()}", bytes(data))

    def mark_filed(self, uid: bytes) -> None:
        self.imap.uid("STORE", uid.decode(), "+FLAGS", f"({FILED_KEYWORD})")

    def close(self) -> None:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            self.imap.logout()


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
