"""Email in from a Maildir folder: each message matched (thread, sender, account number, unit),
sorted by a named rule, filed on the timeline with its attachments, or kept in triage; a second
fetch files nothing; a delivery report marks our email bounced."""

from __future__ import annotations

import hashlib
import mailbox
from email.message import EmailMessage
from pathlib import Path

import pytest

from arrears.core.errors import ValidationError
from arrears.core.pdf import render_pdf
from arrears.correspondence.archive import archive_read
from arrears.correspondence.mail_in import mail_fetch, triage_assign
from arrears.correspondence.mail_models import InboundEmail
from arrears.correspondence.mail_out import OutgoingEmail, email_prepare
from arrears.correspondence.models import Outbound
from arrears.correspondence.tests.mail.conftest import email_outbound
from arrears.ledger.models import TimelineEvent


def message(sender: str, subject: str, text: str, **headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "collections@elmcourt.example"
    msg["Subject"] = subject
    msg["Date"] = "Sat, 07 Mar 2026 10:00:00 -0500"
    msg["Message-ID"] = f"<{hashlib.sha256((sender + subject).encode()).hexdigest()[:16]}@x>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(text)
    return msg


def sent_reminder(key: str, party_id: str = "P-TINA") -> Outbound:
    """A reminder of ours, prepared (so its Message-ID is on record)."""
    return email_prepare(
        outbound=email_outbound(key, party_id=party_id),
        email=OutgoingEmail(
            to=f"{party_id[2:].lower()}@example.org",
            subject="March rent",
            text="March's rent is unpaid.",
        ),
        sender="collections@elmcourt.example",
        domain="elmcourt.example",
    )


@pytest.fixture
def maildir(tmp_path: Path) -> mailbox.Maildir:
    return mailbox.Maildir(str(tmp_path / "Maildir"), create=True)


def test_fetch_matches_sorts_and_files_each_message(
    mail_book: None, maildir: mailbox.Maildir, tmp_path: Path
) -> None:
    # given our reminder to Tina and a mailbox of answers and strangers
    ours = sent_reminder("A-TINA:reminder:T-RENT-03:P-TINA")
    reply = message(
        "Tina Ortiz <tina.ortiz@work.example>",
        "Re: March rent",
        "I do not owe the late fee, the amount is wrong.\n\n"
        "On Mon, Mar 2, 2026 Elm Court wrote:\n> March's rent is unpaid.\n> I will pay",
        In_Reply_To=ours.message_id,
        References=ours.message_id,
    )
    greg = message("greg@example.org", "Tina's rent", "I will pay the balance on Friday.")
    receipt = render_pdf("<p>Receipt: 1,200.00 paid to Elm Court</p>")
    frank = message(
        "frank@elsewhere.example", "Payment for unit 3B", "I paid yesterday, receipt attached."
    )
    frank.add_attachment(receipt, maintype="application", subtype="pdf", filename="receipt.pdf")
    carmen_named = message("carmen@example.org", "Cuenta A-CARMEN-2", "¿Cuánto debo este mes?")
    carmen_vague = message("carmen@example.org", "Hola", "Hola, gracias.")
    away = message(
        "tina@example.org",
        "Automatic reply: March rent",
        "I am away until Monday.",
        Auto_Submitted="auto-replied",
    )
    stranger = message("sam@nowhere.example", "Hello", "Is the apartment still available?")
    for msg in (reply, greg, frank, carmen_named, carmen_vague, away, stranger):
        maildir.add(msg.as_bytes())
    # when the mailbox is fetched
    report = mail_fetch(source=maildir._path)  # type: ignore[attr-defined]
    # then five messages are filed and two wait in triage
    assert (len(report.filed), len(report.triage), report.already) == (5, 2, 0)
    got = {m.subject: m for m in InboundEmail.objects.select_related("account")}
    expected = {
        "Re: March rent": ("A-TINA", "thread", "dispute", 'dispute:phrase "do not owe"'),
        "Tina's rent": ("A-TINA", "sender", "promise", 'promise:phrase "i will pay"'),
        "Payment for unit 3B": ("A-TINA", "unit", "payment_claim", 'payment_claim:phrase "i paid"'),
        "Cuenta A-CARMEN-2": ("A-CARMEN-2", "account", "question", 'question:"?"'),
        "Automatic reply: March rent": (
            "A-TINA",
            "sender",
            "out_of_office",
            "header:auto-submitted=auto-replied",
        ),
    }
    for subject, (account, how, category, rule) in expected.items():
        row = got[subject]
        assert row.account is not None, subject
        assert (row.account.account_id, row.matched_by, row.category, row.rule) == (
            account,
            how,
            category,
            rule,
        ), subject
    assert got["Hola"].status == "triage"
    assert got["Hola"].why_unmatched == (
        "the sender is a party of 2 accounts and the message names none of them"
    )
    assert got["Hello"].status == "triage"
    assert got["Hello"].account is None
    # and the quoted text of our own message did not count ("I will pay" is ours, quoted)
    assert got["Re: March rent"].excerpt == "I do not owe the late fee, the amount is wrong."
    # and what needs an answer is marked so, the automatic reply is not
    assert got["Re: March rent"].needs_answer
    assert not got["Automatic reply: March rent"].needs_answer
    # and each filed message is on its account's timeline with its stored attachment
    events = {e.detail["subject"]: e for e in TimelineEvent.objects.filter(kind="email.received")}
    assert set(events) == set(expected)
    [pdf] = events["Payment for unit 3B"].detail["attachments"]
    assert pdf["filename"] == "receipt.pdf"
    assert pdf["sha256"] == hashlib.sha256(receipt).hexdigest()
    row = got["Payment for unit 3B"]
    stored = row.files.get()
    assert archive_read(stored.document) == receipt
    assert hashlib.sha256(archive_read(row.document)).hexdigest() == row.sha256


def test_a_second_fetch_files_nothing_twice(mail_book: None, maildir: mailbox.Maildir) -> None:
    # given a mailbox fetched once
    maildir.add(message("greg@example.org", "Rent", "I will pay on Friday.").as_bytes())
    mail_fetch(source=maildir._path)  # type: ignore[attr-defined]
    # when a new message arrives and the mailbox is fetched again
    maildir.add(message("greg@example.org", "Rent again", "I paid today.").as_bytes())
    again = mail_fetch(source=maildir._path)  # type: ignore[attr-defined]
    # then only the new one is filed
    assert (len(again.filed), again.already) == (1, 1)
    assert InboundEmail.objects.count() == 2
    assert TimelineEvent.objects.filter(kind="email.received").count() == 2


def test_a_triaged_message_is_assigned_to_an_account(
    mail_book: None, maildir: mailbox.Maildir
) -> None:
    # given a message nobody could match
    maildir.add(message("sam@nowhere.example", "My rent", "Why was I charged twice?").as_bytes())
    report = mail_fetch(source=maildir._path)  # type: ignore[attr-defined]
    [pk] = report.triage
    assert not TimelineEvent.objects.filter(kind="email.received").exists()
    # when Alice assigns it to Tina's account
    row = triage_assign(inbound_id=pk, account_id="A-TINA", actor="alice")
    # then it is filed on the timeline, and cannot be assigned twice
    assert (row.status, row.matched_by) == ("filed", "assigned by alice")
    event = TimelineEvent.objects.get(kind="email.received")
    assert (event.account.account_id, event.actor) == ("A-TINA", "alice")
    with pytest.raises(ValidationError, match="already filed"):
        triage_assign(inbound_id=pk, account_id="A-TINA", actor="alice")


def test_a_delivery_report_marks_our_email_bounced(
    mail_book: None, maildir: mailbox.Maildir
) -> None:
    # given our reminder to Greg and the report of its failed delivery (RFC 3464)
    ours = sent_reminder("A-TINA:reminder:T-RENT-03:P-GREG", party_id="P-GREG")
    Outbound.objects.filter(pk=ours.pk).update(status="sent")
    report = EmailMessage()
    report["From"] = "MAILER-DAEMON@mx.example.org"
    report["To"] = "collections@elmcourt.example"
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report["Message-ID"] = "<dsn-1@mx.example.org>"
    report.set_content("This is the mail system. Your message could not be delivered.")
    report.add_attachment(
        "Reporting-MTA: dns; mx.example.org\n\nFinal-Recipient: rfc822; greg@example.org\n"
        "Action: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\n",
        subtype="delivery-status-placeholder",
    )
    raw = report.as_bytes().replace(b"text/delivery-status-placeholder", b"message/delivery-status")
    raw = raw.replace(b"multipart/mixed", b"multipart/report; report-type=delivery-status", 1)
    original = (f"Message-ID: {ours.message_id}\nSubject: March rent\n").encode()
    maildir.add(_with_headers_part(raw, original))
    # when fetched
    fetched = mail_fetch(source=maildir._path)  # type: ignore[attr-defined]
    # then our email is bounced, on Tina's account's timeline, and the report is filed with it
    assert len(fetched.bounces) == 1
    ours.refresh_from_db()
    assert ours.status == "bounced"
    assert "5.1.1" in ours.error
    bounce = TimelineEvent.objects.get(kind="email.bounced")
    assert bounce.detail["message_id"] == ours.message_id
    row = InboundEmail.objects.get()
    assert (row.category, row.bounce_of, row.needs_answer) == ("bounce", ours.message_id, False)


def _with_headers_part(raw: bytes, headers: bytes) -> bytes:
    """Add a text/rfc822-headers part (the returned message's headers) before the last boundary."""
    boundary = raw.split(b'boundary="', 1)[1].split(b'"', 1)[0]
    closing = b"--" + boundary + b"--"
    part = b"--" + boundary + b"\nContent-Type: text/rfc822-headers\n\n" + headers + b"\n"
    return raw.replace(closing, part + closing)


def test_a_broken_message_is_kept_in_triage(mail_book: None, maildir: mailbox.Maildir) -> None:
    # given messages no mail program would be proud of: an unknown charset, no From, junk bytes
    maildir.add(
        b"Subject: =?x-unknown?q?Hola?=\nContent-Type: text/plain; charset=x-unknown\n"
        b"Content-Transfer-Encoding: 8bit\n\nPagar\xe9 el viernes\n"
    )
    maildir.add(b"\x00\xff\xfe not a message at all \x81\n\n\n")
    # when fetched
    report = mail_fetch(source=maildir._path)  # type: ignore[attr-defined]
    # then both are kept, for a person to read, with their raw bytes archived
    assert len(report.triage) == 2
    for row in InboundEmail.objects.all():
        assert hashlib.sha256(archive_read(row.document)).hexdigest() == row.sha256
