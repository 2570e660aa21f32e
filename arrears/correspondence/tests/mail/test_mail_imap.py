"""Email in over IMAP (TLS) from a real Dovecot started by the test: messages filed once, flagged
filed on the server, and filed once only even when the flag is lost."""

from __future__ import annotations

import imaplib
import ssl
from collections.abc import Iterator

import pytest

from arrears.core.errors import ValidationError
from arrears.correspondence.mail_in import FILED_KEYWORD, mail_fetch
from arrears.correspondence.mail_models import InboundEmail
from arrears.correspondence.tests import dovecot
from arrears.correspondence.tests.mail.test_mail_in import message, sent_reminder
from arrears.correspondence.tests.smtp_server import free_port
from arrears.ledger.models import TimelineEvent


@pytest.fixture(scope="module")
def server() -> Iterator[dovecot.Imap]:
    why = dovecot.missing()
    if why:
        pytest.skip(why)
    with dovecot.running() as imap:
        yield imap


@pytest.fixture
def imap(server: dovecot.Imap) -> Iterator[tuple[dovecot.Imap, imaplib.IMAP4_SSL]]:
    """The server with an empty INBOX, and a client session to put messages in it."""
    context = ssl.create_default_context(cafile=server.cafile)
    client = imaplib.IMAP4_SSL(server.host, server.port, ssl_context=context)
    client.login(server.user, server.password)
    _, count = client.select("INBOX")
    if int(count[0] or 0):
        client.store("1:*", "+FLAGS", "(\\Deleted)")
        client.expunge()
    yield server, client
    client.logout()


def test_imap_fetch_files_each_message_once(mail_book: None, imap) -> None:
    server, client = imap
    # given our reminder to Tina, her reply, Greg's promise and a stranger's question
    ours = sent_reminder("A-TINA:reminder:T-RENT-03:P-TINA")
    reply = message(
        "tina@example.org",
        "Re: March rent",
        "The late fee is incorrect.",
        In_Reply_To=ours.message_id,
    )
    for msg in (
        reply,
        message("greg@example.org", "Rent", "I will pay Friday."),
        message("sam@nowhere.example", "Hello", "Is 4C for rent?"),
    ):
        client.append("INBOX", None, None, msg.as_bytes())
    # when the mailbox is fetched over IMAPS
    first = mail_fetch(source=server.url())
    # then two are filed on Tina's account, one waits in triage, all flagged filed on the server
    assert (len(first.filed), len(first.triage)) == (2, 1)
    assert {(m.matched_by, m.category) for m in InboundEmail.objects.filter(status="filed")} == {
        ("thread", "dispute"),
        ("sender", "promise"),
    }
    client.select("INBOX")
    _, found = client.search(None, "KEYWORD", FILED_KEYWORD)
    assert len(found[0].split()) == 3
    # when fetched again, and again after someone clears the flag on one message
    second = mail_fetch(source=server.url())
    client.store("1", "-FLAGS", f"({FILED_KEYWORD})")
    third = mail_fetch(source=server.url())
    # then nothing is filed twice
    assert second.as_json() == {"filed": 0, "triage": 0, "bounces": 0, "already_filed": 0}
    assert third.as_json() == {"filed": 0, "triage": 0, "bounces": 0, "already_filed": 1}
    assert InboundEmail.objects.count() == 3
    assert TimelineEvent.objects.filter(kind="email.received").count() == 2


def test_a_wrong_password_is_a_clear_error(mail_book: None, imap) -> None:
    server, _ = imap
    with pytest.raises(
        ValidationError, match=r"^IMAP arrears@127\.0\.0\.1:\d+: .*(?i:authentication failed)"
    ):
        mail_fetch(source=server.url().replace("s3cret", "wrong"))
    with pytest.raises(ValidationError, match=r"Connection refused"):
        mail_fetch(source=f"imaps://arrears:x@127.0.0.1:{free_port()}/INBOX")


def test_imap_with_starttls(mail_book: None, imap) -> None:
    server, client = imap
    # given a message, and the server's plain IMAP port
    client.append(
        "INBOX", None, None, message("greg@example.org", "Rent", "I will pay Friday.").as_bytes()
    )
    plain = f"imap://arrears:s3cret@127.0.0.1:{server.plain_port}/INBOX"
    # when fetched with STARTTLS
    report = mail_fetch(source=f"{plain}?starttls=yes&cafile={server.cafile}")
    # then it was filed, and the server logged the login on that port as encrypted
    assert len(report.filed) == 1
    port = f"lport={server.plain_port}"
    logins = [
        line
        for line in server.log.read_text().splitlines()
        if "Login: user=<arrears>" in line and port in line
    ]
    assert logins
    assert all("TLS" in line for line in logins)
