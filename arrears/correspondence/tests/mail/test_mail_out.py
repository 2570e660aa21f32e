"""Email out against a real SMTP server (aiosmtpd) started by each test: what arrives, byte for
byte; STARTTLS and TLS; a server that drops the connection mid-batch; bounces. Tries, backoff
and giving up: test_mail_retry.py."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from arrears.core.errors import ValidationError
from arrears.core.pdf import pdf_text, render_pdf
from arrears.correspondence.archive import archive_read
from arrears.correspondence.mail_out import (
    Attachment,
    OutgoingEmail,
    SmtpSettings,
    Verdict,
    build_message,
    email_prepare,
    message_id_for,
    outbox_send,
    parse_email_url,
)
from arrears.correspondence.models import Outbound
from arrears.correspondence.tests import smtp_server
from arrears.correspondence.tests.mail.conftest import email_outbound
from arrears.ledger.models import TimelineEvent

SENDER = "collections@elmcourt.example"
DOMAIN = "mail.elmcourt.example"


@pytest.fixture
def smtp() -> Iterator[smtp_server.Recorder]:
    handler = smtp_server.Recorder()
    controller = smtp_server.start(handler)
    handler.port = controller.port  # type: ignore[attr-defined]
    yield handler
    controller.stop()


def plain(port: int) -> str:
    return f"smtp://127.0.0.1:{port}"


def reminder(to: str = "tina@example.org", **extra: object) -> OutgoingEmail:
    return OutgoingEmail(
        to=to,
        to_name="Tina Ortiz",
        subject="Your rent for March is late",
        text="Dear Tina Ortiz,\n\nMarch's rent of 1,200.00 is unpaid.",
        opt_out_notice=True,
        **extra,
    )  # type: ignore[arg-type]


def queue(key: str, email: OutgoingEmail | None = None, **where: str) -> Outbound:
    return email_prepare(
        outbound=email_outbound(key, **where),
        email=email or reminder(),
        sender=SENDER,
        domain=DOMAIN,
    )


def test_email_url_names_host_port_security_and_credentials() -> None:
    s = parse_email_url("smtp://ann%40co:p%2Fss@mail.example:587")
    assert (s.host, s.port, s.security, s.username, s.password) == (
        "mail.example",
        587,
        "starttls",
        "ann@co",
        "p/ss",
    )
    assert parse_email_url("smtps://mail.example").port == 465
    assert parse_email_url("smtps://mail.example").security == "tls"
    assert parse_email_url("smtp://localhost:25").security == "plain"
    assert parse_email_url("smtp://localhost:2525?starttls=yes").security == "starttls"
    with pytest.raises(ValidationError, match="smtp:// or smtps://"):
        parse_email_url("http://mail.example")
    with pytest.raises(ValidationError, match="unknown option 'tls'"):
        parse_email_url("smtp://mail.example?tls=1")


def test_the_reminder_arrives_with_its_message_id_opt_out_line_and_letter_attached(
    mail_book: None, smtp: smtp_server.Recorder
) -> None:
    # given Tina's reminder with her letter as a PDF
    letter = render_pdf("<p>Tina Ortiz</p><p>Balance due: 1,200.00</p>")
    row = queue(
        "A-TINA:reminder:T-RENT-03:P-TINA",
        reminder(attachments=[Attachment("letter.pdf", letter, "application/pdf")]),
    )
    # when the outbox is sent
    report = outbox_send(settings=parse_email_url(plain(smtp.port)))  # type: ignore[attr-defined]
    # then the server received one message, as built
    assert report.sent == [row.key]
    [got] = smtp.received
    assert got.mail_from == SENDER
    assert got.rcpt_tos == ["tina@example.org"]
    msg = got.message
    expected_id = message_id_for("A-TINA:reminder:T-RENT-03:P-TINA", DOMAIN)
    assert msg["Message-ID"] == expected_id
    assert expected_id.endswith(f"@{DOMAIN}>")
    assert msg["To"] == "Tina Ortiz <tina@example.org>"
    assert msg["Subject"] == "Your rent for March is late"
    assert msg["List-Unsubscribe"] == f"<mailto:{SENDER}?subject=STOP>"
    body = msg.get_body(("plain",)).get_content()
    assert "March's rent of 1,200.00 is unpaid." in body
    assert "reply to this message with the word STOP" in body
    [pdf] = list(msg.iter_attachments())
    assert pdf.get_filename() == "letter.pdf"
    assert "Balance due: 1,200.00" in pdf_text(pdf.get_content())
    # and the row and the timeline say so, with the same Message-ID
    row.refresh_from_db()
    assert (row.status, row.attempts, row.message_id) == ("sent", 1, expected_id)
    event = TimelineEvent.objects.get(kind="email.sent")
    assert event.detail["message_id"] == expected_id
    assert event.detail["attachments"][0]["filename"] == "letter.pdf"
    # and the archived message is the one that arrived
    archived = archive_read(row.document)
    assert event.detail["sha256"] == hashlib.sha256(archived).hexdigest()
    assert got.data.replace(b"\r\n", b"\n") == archived.replace(b"\r\n", b"\n")


def test_sending_again_sends_nothing_twice(mail_book: None, smtp: smtp_server.Recorder) -> None:
    # given three reminders sent once
    settings = parse_email_url(plain(smtp.port))  # type: ignore[attr-defined]
    for n in range(3):
        queue(f"reminder-{n}")
    outbox_send(settings=settings)
    # when the pass is repeated, and a key is prepared again
    again = outbox_send(settings=settings)
    row = email_prepare(
        outbound=Outbound.objects.get(key="reminder-0"),
        email=reminder(),
        sender=SENDER,
        domain=DOMAIN,
    )
    outbox_send(settings=settings)
    # then nothing more was sent
    assert again.sent == []
    assert row.status == "sent"
    assert len(smtp.received) == 3
    assert len(set(smtp.message_ids())) == 3


def test_starttls_with_login_and_implicit_tls(mail_book: None, tmp_path: Path) -> None:
    # given a server that requires STARTTLS and a login, and one that speaks TLS from the start
    cert, key = smtp_server.self_signed(tmp_path)
    context = smtp_server.server_context(cert, key)

    def login(
        server: object, session: object, envelope: object, mechanism: str, auth_data: object
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == b"ann"
            and auth_data.password == b"s3cret"
        )
        return AuthResult(success=ok)

    starttls = smtp_server.Recorder()
    c1 = smtp_server.start(
        starttls,
        tls_context=context,
        require_starttls=True,
        authenticator=login,
        auth_required=True,
    )
    implicit = smtp_server.Recorder()
    c2 = smtp_server.start(implicit, ssl_context=context)
    try:
        queue("over-starttls")
        # when each is sent (a plain session to the first is refused before any message)
        refused = outbox_send(
            settings=parse_email_url(f"smtp://ann:s3cret@127.0.0.1:{c1.port}?starttls=no")
        )
        sent = outbox_send(
            settings=parse_email_url(
                f"smtp://ann:s3cret@127.0.0.1:{c1.port}?starttls=yes&cafile={cert}"
            )
        )
        queue("over-tls")
        sent_tls = outbox_send(
            settings=parse_email_url(f"smtps://127.0.0.1:{c2.port}?cafile={cert}")
        )
    finally:
        c1.stop()
        c2.stop()
    # then the plain try failed without a bounce and both went out encrypted
    assert refused.sent == []
    assert refused.bounced == []
    assert refused.error
    assert sent.sent == ["over-starttls"]
    assert sent_tls.sent == ["over-tls"]
    assert [r.rcpt_tos for r in starttls.received + implicit.received] == [
        ["tina@example.org"],
        ["tina@example.org"],
    ]
    # and the plain session, refused before any message, cost the message no try
    assert Outbound.objects.get(key="over-starttls").attempts == 1


@pytest.mark.parametrize("drop_at", [1, 4, 10])
def test_a_server_that_drops_the_connection_mid_batch_then_recovers(
    mail_book: None, smtp: smtp_server.Recorder, drop_at: int
) -> None:
    # given ten reminders and a server that drops the connection at the n-th message (first,
    # fourth or last), unanswered, and then refuses service (421) until it is back
    settings = parse_email_url(plain(smtp.port))  # type: ignore[attr-defined]
    keys = [f"reminder-{n}" for n in range(10)]
    for key in keys:
        queue(key)
    smtp.drop_at = drop_at
    # when the batch is sent, fails half-way, and is sent again once the server is back
    first = outbox_send(settings=settings)
    smtp.down = False
    second = outbox_send(settings=settings)
    third = outbox_send(settings=settings)
    # then those before the drop went, the pass stopped with the server's error, the rest went
    # on the next pass
    n = drop_at - 1
    assert first.sent == keys[:n]
    assert first.retry == [keys[n]]
    assert "421" in first.error
    assert second.sent == keys[n:]
    assert third.sent == []
    # and every message arrived exactly once, the dropped one retried with its Message-ID
    ids = smtp.message_ids()
    assert len(ids) == 10
    assert sorted(ids) == sorted(message_id_for(k, DOMAIN) for k in keys)
    dropped = Outbound.objects.get(key=keys[n])
    assert (dropped.status, dropped.attempts) == ("sent", 2)
    assert TimelineEvent.objects.filter(kind="email.sent").count() == 10


def test_a_refused_address_is_a_bounce_and_is_not_tried_again(
    mail_book: None, smtp: smtp_server.Recorder
) -> None:
    # given a reminder to an address the server does not know
    smtp.refuse.add("nobody@example.org")
    settings = parse_email_url(plain(smtp.port))  # type: ignore[attr-defined]
    queue("to-nobody", reminder(to="nobody@example.org"))
    queue("to-tina")
    # when sent twice
    report = outbox_send(settings=settings)
    outbox_send(settings=settings)
    # then it bounced once, with the server's words on the timeline, and Tina's went
    assert report.bounced == ["to-nobody"]
    assert report.sent == ["to-tina"]
    row = Outbound.objects.get(key="to-nobody")
    assert (row.status, row.attempts) == ("bounced", 1)
    event = TimelineEvent.objects.get(kind="email.bounced")
    assert "550" in event.summary
    assert "No such user" in event.summary


def test_the_guards_answer_defers_or_refuses(mail_book: None, smtp: smtp_server.Recorder) -> None:
    # given two reminders, one the caller defers (hours) and one it refuses (a hold)
    queue("later")
    queue("never")
    verdicts = {
        "later": Verdict("defer", "hours", "21:30 is late"),
        "never": Verdict("refuse", "hold:dispute", "dispute hold on the account"),
    }

    # when sent
    report = outbox_send(
        settings=parse_email_url(plain(smtp.port)),  # type: ignore[attr-defined]
        check=lambda row: verdicts[row.key],
    )
    # then nothing went; the deferred one waits, the refused one is closed with its rule
    assert smtp.received == []
    assert (report.deferred, report.refused) == (["later"], ["never"])
    assert Outbound.objects.get(key="later").status == "rendered"
    never = Outbound.objects.get(key="never")
    assert never.status == "failed"
    assert never.detail["rule"] == "hold:dispute"
    assert TimelineEvent.objects.get(kind="email.refused").detail["rule"] == "hold:dispute"


def test_a_row_another_pass_took_meanwhile_is_left_to_it(
    mail_book: None, smtp: smtp_server.Recorder
) -> None:
    # given two reminders, and another pass that counts its try of the first one just before
    # this pass reaches it
    queue("first")
    queue("second")

    def other_pass_took_first(row: Outbound) -> Verdict:
        if row.key == "first":
            Outbound.objects.filter(key="first").update(attempts=1)
        return Verdict("send")

    # when this pass runs
    report = outbox_send(
        settings=parse_email_url(plain(smtp.port)),  # type: ignore[attr-defined]
        check=other_pass_took_first,
    )
    # then it sent the second only: the first is the other pass's to send
    assert report.sent == ["second"]
    assert [r.message["Message-ID"] for r in smtp.received] == [message_id_for("second", DOMAIN)]
    assert Outbound.objects.get(key="first").status == "rendered"


def test_the_opt_out_line_is_in_the_addressees_language(
    mail_book: None, smtp: smtp_server.Recorder
) -> None:
    # given Carmen, who reads Spanish, and a business email that needs no opt-out line
    queue(
        "to-carmen",
        OutgoingEmail(
            to="carmen@example.org",
            subject="Su renta de marzo",
            text="Su renta de marzo está pendiente.",
            language="es",
            html="<html><body><p>Su renta</p></body></html>",
            opt_out_notice=True,
        ),
        account_id="A-CARMEN",
        party_id="P-CARMEN",
    )
    queue(
        "b2b",
        OutgoingEmail(
            to="ap@acme.example", subject="Invoice 17 is overdue", text="Invoice 17 is overdue."
        ),
    )
    # when sent
    outbox_send(settings=parse_email_url(plain(smtp.port)))  # type: ignore[attr-defined]
    # then Carmen's text and HTML end with the Spanish opt-out line; the business email has none
    carmen, b2b = (r.message for r in smtp.received)
    spanish = "responda a este mensaje con la palabra STOP"
    assert spanish in carmen.get_body(("plain",)).get_content()
    assert spanish in carmen.get_body(("html",)).get_content()
    assert "STOP" not in b2b.get_body(("plain",)).get_content()
    assert b2b["List-Unsubscribe"] is None


def test_the_same_email_built_twice_is_the_same_bytes() -> None:
    # (a crash between archiving a message and committing its row must not make a second one)
    email = reminder(
        html="<html><body><p>March</p></body></html>",
        attachments=[Attachment("a.pdf", b"%PDF-1.4 x", "application/pdf")],
    )
    at = datetime(2026, 3, 2, 12, tzinfo=ZoneInfo("America/New_York"))
    one, two = (
        build_message(
            email, sender=SENDER, sender_name="Elm Court", message_id="<k@x>", at=at
        ).as_bytes()
        for _ in range(2)
    )
    assert one == two
    assert b'boundary="====' in one


def test_a_try_a_dead_pass_left_unfinished_is_made_again_with_the_same_message_id(
    mail_book: None, smtp: smtp_server.Recorder
) -> None:
    # given a reminder whose try a pass counted before it died (its outcome unknown)
    row = queue("unfinished")
    Outbound.objects.filter(pk=row.pk).update(attempts=1)
    # when the next pass runs
    report = outbox_send(settings=parse_email_url(plain(smtp.port)))  # type: ignore[attr-defined]
    # then it is sent, as the second try, under the Message-ID it was built with
    assert report.sent == ["unfinished"]
    [got] = smtp.received
    assert got.message["Message-ID"] == row.message_id == message_id_for("unfinished", DOMAIN)
    assert Outbound.objects.get(pk=row.pk).attempts == 2


def test_an_address_no_smtp_command_can_carry_bounces_and_the_pass_goes_on(
    mail_book: None, smtp: smtp_server.Recorder
) -> None:
    # given a reminder to an address with two @ (typed so on the lease), and one to Tina
    queue("typo", reminder(to="tina@@example.org"))
    queue("tina")
    # when the outbox is sent
    report = outbox_send(settings=parse_email_url(plain(smtp.port)))  # type: ignore[attr-defined]
    # then the first bounced, with why, and the second went
    assert (report.bounced, report.sent) == (["typo"], ["tina"])
    typo = Outbound.objects.get(key="typo")
    assert typo.status == "bounced"
    assert "not an address" in typo.error
    assert [r.rcpt_tos for r in smtp.received] == [["tina@example.org"]]
    assert TimelineEvent.objects.filter(kind="email.bounced", detail__key="typo").exists()


def test_the_email_backend_is_handed_the_archived_bytes(mail_book: None) -> None:
    # given Tina's reminder, and Django's in-memory email backend instead of a server
    from django.core import mail

    row = queue("in-memory")
    settings = SmtpSettings(
        host="unused.example",
        port=25,
        security="plain",
        backend="django.core.mail.backends.locmem.EmailBackend",
    )
    mail.outbox = []
    # when the outbox is sent
    report = outbox_send(settings=settings)
    # then the backend got the message as archived, from the sender to Tina
    assert report.sent == ["in-memory"]
    [got] = mail.outbox
    assert (got.from_email, got.to) == (SENDER, ["tina@example.org"])
    assert got.message().as_bytes() == archive_read(row.document)
