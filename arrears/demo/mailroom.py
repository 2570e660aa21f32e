"""The demo's mailroom: what a coordinator does after each day's run, done for the demo book so
that its Today and Letters pages show a working office, not two months of letters never mailed
and emails never sent.

- The day's printed letters are recorded mailed from their manifest (`letters_mailed`, the same
  service as `arrears letters mailed`), certified letters with demo article numbers that carry a
  valid USPS check digit. The last day's letters are left printed and not mailed, so the Letters
  page has a batch to record.
- The day's emails go through the real send path (`emails_send`: prepared, archived, guarded)
  to an email backend that writes each message to a folder instead of an SMTP server
  (`<archive>/demo-outbox/*.eml`), readable with any mail program.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.core.mail.backends.base import BaseEmailBackend

from arrears.correspondence.certified import usps_check_digit
from arrears.correspondence.smtp import SmtpSettings

# Certified Mail labels printed by a mailer begin 9407 1 (USPS Publication 199, service type
# code 407 in a 22-digit number); the demo's numbers run on from there by letter id.
DEMO_ARTICLE_PREFIX = "94071"
DEMO_OUTBOX_BACKEND = "arrears.demo.mailroom.DemoOutbox"


def demo_article_number(letter_id: int) -> str:
    """A 22-digit article number for a demo letter, with its Mod-10 check digit."""
    payload = f"{DEMO_ARTICLE_PREFIX}{letter_id:016d}"
    return f"{payload}{usps_check_digit(payload)}"


def letters_mail_day(*, manifest: Path, on: date, actor: str) -> int:
    """Record the letters of a printed batch mailed on `on`; how many were recorded."""
    from arrears.correspondence.mailing import letters_mailed

    with manifest.open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream))
    if not rows:
        return 0
    for row in rows:
        if row.get("postage_class", "").lower().startswith("certified") and not row.get(
            "article_number"
        ):
            row["article_number"] = demo_article_number(int(row["letter_id"].lstrip("Ll")))
    filled = manifest.with_name(f"{manifest.stem}-mailed.csv")
    with filled.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return letters_mailed(manifest=filled, mailed_on=on, actor=actor).mailed


class DemoOutbox(BaseEmailBackend):
    """An email backend that files each message as `<folder>/<n>.eml` (the bytes an SMTP server
    would be handed)."""

    def __init__(self, *, folder: str = "", fail_silently: bool = False, **_: Any) -> None:
        super().__init__(fail_silently=fail_silently)
        self.folder = Path(folder)
        self.filed: int | None = None  # files in the folder, counted once per connection

    def send_messages(self, email_messages: Sequence[Any]) -> int:
        if self.filed is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.filed = sum(1 for _ in self.folder.glob("*.eml"))
        for message in email_messages:
            data = message.message().as_bytes(linesep="\r\n")
            self.filed += 1
            (self.folder / f"{self.filed:06d}.eml").write_bytes(data)
        return len(email_messages)


class DemoOutboxSettings(SmtpSettings):
    """SmtpSettings whose connection is the demo outbox in `host` (a folder)."""

    def connection(self) -> Any:
        return DemoOutbox(folder=self.host)


def emails_send_day(*, on: date, folder: Path, zone: str, actor: str) -> int:
    """Send the emails due on `on` into `folder`, at 13:00 of that day in `zone` (10:00 in
    California, inside every policy's contact hours); how many were sent."""
    from arrears.correspondence.mail_message import Sender
    from arrears.dunning.emails import emails_send

    at = datetime.combine(on, time(13), tzinfo=ZoneInfo(zone))
    settings = DemoOutboxSettings(host=str(folder), port=0, security="plain")
    run = emails_send(
        on=on, settings=settings, sender=Sender.from_env(), now=lambda: at, actor=actor
    )
    return len(run.report.sent)
