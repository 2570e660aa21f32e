"""An email that cannot be delivered is never dropped silently: its action fails with the
reason, the coordinator's worklist shows it until someone deals with it, and a step that must
reach its addressee (a statement by email, `fallback_channel = "letter"`) is sent by letter.

Acme Supply buys on net-30 terms from a company that chases with the built-in b2b-net30 policy;
its invoice of January 26, 2026 (5,000.00, due February 10) is unpaid. Tina Ortiz rents 3B at
Elm Court, Brooklyn (ny-residential: the reminder by email is a courtesy). Real aiosmtpd servers.
"""

from __future__ import annotations

import mailbox
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from arrears.cli import main
from arrears.correspondence.mail_out import Sender, parse_email_url
from arrears.correspondence.models import Outbound
from arrears.correspondence.tests import smtp_server
from arrears.correspondence.tests.mail.test_mail_retry import Clock, Greylister
from arrears.dunning.contact import EmailRun, call_log, emails_send
from arrears.dunning.models import Action
from arrears.dunning.policy import PolicyError, built_in_policies, parse_policy
from arrears.dunning.selectors import worklist
from arrears.dunning.services import cycle_run, note_add
from arrears.dunning.tests.conftest import ELM_COURT
from arrears.ledger.models import TimelineEvent

NY = ZoneInfo("America/New_York")
DOMAIN = "elmcourt.example"
FEB_25 = date(2026, 2, 25)  # the invoice is 15 days past due: statement-15
MARCH_2 = date(2026, 3, 2)

ACME = {
    "party_id": "P-ACME",
    "name": "Acme Supply LLC",
    "email": "ap@acme.example",
    "address": "1 Industrial Way",
    "city": "Newark",
    "state": "NJ",
    "postal_code": "07102",
    "country": "US",
}


@pytest.fixture(autouse=True)
def archive(tmp_path: Any, monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    folder = tmp_path / "archive"
    monkeypatch.setenv("ARREARS_ARCHIVE_DIR", str(folder))
    storages = getattr(settings, "STORAGES", None)
    if storages and "archive" in storages:
        settings.STORAGES = {
            **storages,
            "archive": {**storages["archive"], "OPTIONS": {"location": str(folder)}},
        }


@pytest.fixture
def acme(load_book: Callable[..., Any]) -> str:
    load_book(
        properties=[ELM_COURT],
        parties=[ACME],
        accounts=[
            {
                "account_id": "C-ACME",
                "property_id": "ELM",
                "kind": "customer",
                "opened": "2025-01-01",
                "rent": "0.00",
            }
        ],
        account_parties=[{"account_id": "C-ACME", "party_id": "P-ACME", "role": "primary"}],
        transactions=[
            {
                "txn_id": "INV-17",
                "account_id": "C-ACME",
                "posted": "2026-01-26",
                "type": "charge",
                "code": "INVOICE",
                "amount": "5000.00",
                "due": "2026-02-10",
            }
        ],
    )
    return "C-ACME"


@pytest.fixture
def server() -> Iterator[Callable[[int], Greylister]]:
    controllers = []

    def start(times: int) -> Greylister:
        handler = Greylister(times)
        controller = smtp_server.start(handler)
        handler.url = f"smtp://127.0.0.1:{controller.port}"  # type: ignore[attr-defined]
        controllers.append(controller)
        return handler

    yield start
    for controller in controllers:
        controller.stop()


def send(handler: Greylister, on: date, clock: Clock) -> EmailRun:
    return emails_send(
        on=on,
        settings=parse_email_url(handler.url),  # type: ignore[attr-defined]
        sender=Sender(f"billing@{DOMAIN}", "Elm Court", DOMAIN),
        now=clock,
    )


def send_until_settled(handler: Greylister, on: date, clock: Clock) -> list[EmailRun]:
    """Passes at each time the retry schedule names, until no email waits."""
    runs = [send(handler, on, clock)]
    while True:
        due = Outbound.objects.filter(channel="email", status="rendered").values_list(
            "next_attempt_at", flat=True
        )
        if not due:
            return runs
        assert all(at is not None for at in due)
        clock.at = min(at for at in due if at is not None)
        runs.append(send(handler, on, clock))


def lines(on: date, kind: str = "email_failed") -> list[Any]:
    return [w for w in worklist(on=on) if w.kind == kind]


def test_a_statement_put_off_for_ever_is_given_up_after_the_schedule_and_sent_by_letter(
    acme: str, server: Callable[[int], Greylister]
) -> None:
    # given the run of February 25, which emails Acme its 15-day statement, and a server that
    # answers 451 to it for ever
    cycle_run(on=FEB_25)
    action = Action.objects.get(account__account_id=acme, step="statement-15")
    assert (action.channel, action.status) == ("email", "queued")
    handler = server(-1)
    clock = Clock(datetime(2026, 2, 25, 10, 0, tzinfo=NY))
    # when `mail send` runs at the times the schedule names
    runs = send_until_settled(handler, FEB_25, clock)
    # then the email was given up only after its schedule (two days and more)
    row = Outbound.objects.get(key=action.key)
    assert (row.status, row.attempts) == ("failed", 8)
    assert row.given_up_at is not None
    assert row.given_up_at - datetime(2026, 2, 25, 10, 0, tzinfo=NY) >= timedelta(days=2)
    assert runs[-1].report.failed == [action.key]
    # and its action failed with the reason, not closed
    action.refresh_from_db()
    assert action.status == "failed"
    assert action.reason.startswith("email failed: 451 4.7.1 Greylisted")
    # and the same statement is queued by letter to Acme, through its own key
    letter = Action.objects.get(key=f"{action.key}:fallback:letter")
    assert (letter.channel, letter.template, letter.status, letter.party_id) == (
        "letter",
        "b2b-statement-15",
        "queued",
        action.party_id,
    )
    queued = Outbound.objects.get(key=letter.key)
    assert (queued.channel, queued.status, queued.template, queued.party_id) == (
        "letter",
        "queued",
        "b2b-statement-15",
        action.party_id,
    )
    assert queued.document_name == letter.document
    assert TimelineEvent.objects.filter(kind="notice.queued", detail__key=letter.key).exists()
    # and the coordinator's worklist says what happened, to whom, where and when
    [line] = lines(date(2026, 2, 28))
    assert line.account_id == acme
    assert line.party_id == "P-ACME"
    assert "Acme Supply LLC" in line.reason
    assert "ap@acme.example" in line.reason
    assert f"given up {row.given_up_at:%Y-%m-%d}" in line.reason
    assert "451 4.7.1 Greylisted" in line.reason
    assert "a letter is queued instead" in line.reason
    # when mail send runs again
    send(handler, FEB_25, clock)
    # then no second letter is queued
    assert Action.objects.filter(key__contains=":fallback:").count() == 1
    assert Outbound.objects.filter(channel="letter").count() == 1
    # when the coordinator writes a note on the account
    note_add(
        account_id=acme,
        text="Called Acme: new AP address coming.",
        actor="alice",
        on=date(2026, 2, 28),
    )
    # then the line leaves the worklist
    assert lines(date(2026, 2, 28)) == []


def test_a_bounced_statement_falls_back_to_a_letter_too(
    acme: str, server: Callable[[int], Greylister]
) -> None:
    # given Acme's 15-day statement and a server that does not know its address
    cycle_run(on=FEB_25)
    action = Action.objects.get(account__account_id=acme, step="statement-15")
    handler = server(0)
    handler.refuse.add("ap@acme.example")
    # when mail send runs
    run = send(handler, FEB_25, Clock(datetime(2026, 2, 25, 10, 0, tzinfo=NY)))
    # then the email bounced, its action failed with the server's words, and a letter is queued
    assert run.report.bounced == [action.key]
    action.refresh_from_db()
    assert action.status == "failed"
    assert action.reason == "email bounced: 550 5.1.1 No such user here"
    letter = Outbound.objects.get(key=f"{action.key}:fallback:letter")
    assert (letter.channel, letter.template, letter.status) == (
        "letter",
        "b2b-statement-15",
        "queued",
    )
    [line] = lines(FEB_25)
    assert "bounced" in line.reason
    assert "550 5.1.1 No such user here" in line.reason


def test_a_bounced_courtesy_reminder_goes_on_the_worklist_until_tina_is_called(
    tina_lease: Callable[..., str], server: Callable[[int], Greylister]
) -> None:
    # given the run of March 2, which emails Tina her reminder, and a server that refuses her
    # address
    account = tina_lease()
    cycle_run(on=MARCH_2)
    handler = server(0)
    handler.refuse.add("tina@example.org")
    # when mail send runs
    send(handler, MARCH_2, Clock(datetime(2026, 3, 2, 10, 0, tzinfo=NY)))
    # then her reminder's action failed, no letter stands in for a courtesy, and the worklist
    # names the bounce
    action = Action.objects.get(
        account__account_id=account, step="reminder", party__party_id="P-TINA"
    )
    assert action.status == "failed"
    assert action.reason.startswith("email bounced: 550")
    assert not Outbound.objects.filter(
        channel__in=["letter", "certified_letter"], key__contains=":fallback:"
    ).exists()
    [line] = lines(MARCH_2)
    assert (line.account_id, line.party_id) == (account, "P-TINA")
    assert "tina@example.org" in line.reason
    # when Alice calls Tina about it
    call_log(
        account_id=account,
        party_id="P-TINA",
        outcome="left-message",
        actor="alice",
        at=dj_now_after(action),
    )
    # then the line leaves the worklist
    assert lines(MARCH_2) == []


def dj_now_after(action: Action) -> datetime:
    """A minute after the action's email was given up, within Tina's contact hours."""
    given_up = Outbound.objects.get(key=action.key).given_up_at
    assert given_up is not None
    at = given_up.astimezone(NY) + timedelta(minutes=1)
    return at if 8 <= at.hour < 21 else at.replace(hour=10, minute=0) + timedelta(days=1)


def test_the_fallback_channel_is_for_email_notices_and_names_a_letter() -> None:
    # given policies whose steps ask for a fallback wrongly, and one that asks rightly
    head = 'name = "p"\n[[steps]]\nkey = "s"\naction = "notice"\ntemplate = "t"\n'
    # when they are read, then the wrong ones are refused naming the step and the key
    with pytest.raises(PolicyError, match="p, step s: fallback_channel is for an email notice"):
        parse_policy(head + 'channel = "letter"\nfallback_channel = "letter"\n')
    with pytest.raises(PolicyError, match="fallback_channel must be one of letter, certified"):
        parse_policy(head + 'channel = "email"\nfallback_channel = "sms"\n')
    step = parse_policy(head + 'channel = "email"\nfallback_channel = "certified_letter"\n')
    assert step.step("s").fallback_channel == "certified_letter"


def test_the_built_in_policies_fall_back_to_letters_for_statements_not_courtesies() -> None:
    policies = built_in_policies()
    fallbacks = {
        (p.name, s.key): s.fallback_channel
        for p in policies.values()
        for s in p.steps
        if s.channel == "email"
    }
    assert fallbacks == {
        ("b2b-net30", "reminder-before-due"): None,
        ("b2b-net30", "overdue-1"): None,
        ("b2b-net30", "statement-15"): "letter",
        ("b2b-net30", "statement-30"): "letter",
        ("ca-residential", "reminder"): None,
        ("ny-residential", "reminder"): None,
        ("student", "statement-30"): "letter",
        ("student", "statement-60"): "letter",
        ("student", "monthly-statement"): "letter",
    }


def test_a_bounce_reported_after_sending_fails_the_action_and_sends_the_letter(
    acme: str, server: Callable[[int], Greylister], tmp_path: Any, settings: Any
) -> None:
    # given Acme's 15-day statement, taken by the server (the action done)
    cycle_run(on=FEB_25)
    handler = server(0)
    send(handler, FEB_25, Clock(datetime(2026, 2, 25, 10, 0, tzinfo=NY)))
    action = Action.objects.get(account__account_id=acme, step="statement-15")
    assert action.status == "done"
    ours = Outbound.objects.get(key=action.key)
    # and, days later, the report of its failed delivery in the mailbox (RFC 3464)
    box = mailbox.Maildir(str(tmp_path / "Maildir"), create=True)
    box.add(delivery_report(ours.message_id, "ap@acme.example"))
    settings.ARREARS_MAILDIR = str(tmp_path / "Maildir")
    # when the mailbox is fetched
    assert main(["mail", "fetch"]) == 0
    # then the action failed with the report's reason, and the statement is queued by letter
    action.refresh_from_db()
    assert action.status == "failed"
    assert action.reason.startswith("email bounced:")
    assert "5.1.1" in action.reason
    assert Outbound.objects.get(key=f"{action.key}:fallback:letter").status == "queued"
    [line] = lines(date(2026, 3, 7))
    assert "bounced" in line.reason


def delivery_report(message_id: str, to: str) -> bytes:
    """A mail server's report that our message `message_id` to `to` failed (RFC 3464)."""
    report = EmailMessage()
    report["From"] = "MAILER-DAEMON@mx.acme.example"
    report["To"] = f"billing@{DOMAIN}"
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report["Message-ID"] = "<dsn-7@mx.acme.example>"
    report.set_content("This is the mail system. Your message could not be delivered.")
    report.add_attachment(
        f"Reporting-MTA: dns; mx.acme.example\n\nFinal-Recipient: rfc822; {to}\n"
        "Action: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\n",
        subtype="delivery-status-placeholder",
    )
    raw = report.as_bytes().replace(b"text/delivery-status-placeholder", b"message/delivery-status")
    raw = raw.replace(b"multipart/mixed", b"multipart/report; report-type=delivery-status", 1)
    boundary = raw.split(b'boundary="', 1)[1].split(b'"', 1)[0]
    closing = b"--" + boundary + b"--"
    headers = f"Message-ID: {message_id}\nSubject: Statement\n".encode()
    part = b"--" + boundary + b"\nContent-Type: text/rfc822-headers\n\n" + headers + b"\n"
    return raw.replace(closing, part + closing)
