"""Tries, backoff and giving up, against real SMTP servers (aiosmtpd) and a clock the test moves:
a server that cannot be reached costs no message a try; a greylisting server is waited out; a
server that puts a message off for ever makes it fail only after the whole schedule."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from arrears.core.errors import ValidationError
from arrears.correspondence.mail_out import (
    RetrySchedule,
    SendReport,
    duration,
    email_prepare,
    outbox_send,
    parse_email_url,
)
from arrears.correspondence.models import Outbound
from arrears.correspondence.tests import smtp_server
from arrears.correspondence.tests.mail.conftest import email_outbound
from arrears.correspondence.tests.mail.test_mail_out import DOMAIN, SENDER, reminder
from arrears.ledger.models import TimelineEvent

NY = ZoneInfo("America/New_York")
MONDAY_9 = datetime(2026, 3, 2, 9, 0, tzinfo=NY)


class Greylister(smtp_server.Recorder):
    """Answers 451 to the first `times` RCPTs of each address (RFC 6647 greylisting); -1: for
    ever. Counts every RCPT it sees."""

    def __init__(self, times: int) -> None:
        super().__init__()
        self.times = times
        self.seen: dict[str, int] = {}

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        self.seen[address] = self.seen.get(address, 0) + 1
        if self.times < 0 or self.seen[address] <= self.times:
            return "451 4.7.1 Greylisted, please try again later"
        return await super().handle_RCPT(server, session, envelope, address, options)


@pytest.fixture
def greylister() -> Iterator[Callable[[int], Greylister]]:
    controllers = []

    def start(times: int) -> Greylister:
        handler = Greylister(times)
        controller = smtp_server.start(handler)
        handler.port = controller.port  # type: ignore[attr-defined]
        controllers.append(controller)
        return handler

    yield start
    for controller in controllers:
        controller.stop()


class Clock:
    """The time the sender reads: moved by the test, never slept."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def queue(key: str, to: str) -> Outbound:
    return email_prepare(
        outbound=email_outbound(key), email=reminder(to=to), sender=SENDER, domain=DOMAIN
    )


def test_five_passes_while_the_server_is_down_leave_every_row_as_it_was(mail_book: None) -> None:
    # given three reminders and no server listening on the port
    for n in range(3):
        queue(f"reminder-{n}", f"t{n}@example.org")
    settings = parse_email_url(f"smtp://127.0.0.1:{smtp_server.free_port()}?timeout=2")
    # when five passes are made
    reports = [outbox_send(settings=settings) for _ in range(5)]
    # then each said the server could not be reached, and no row was charged a try
    assert all("Connection refused" in r.error or "ConnectionRefused" in r.error for r in reports)
    assert [r.failed for r in reports] == [[]] * 5
    rows = Outbound.objects.order_by("key")
    assert [(r.status, r.attempts, r.first_attempt_at) for r in rows] == [("rendered", 0, None)] * 3
    assert not TimelineEvent.objects.filter(kind__startswith="email.").exists()


def test_a_server_refusing_service_with_421_charges_no_try(
    mail_book: None, greylister: Callable[[int], Greylister]
) -> None:
    # given a reminder and a server that answers 421 to every MAIL (shutting down)
    server = greylister(0)
    server.down = True
    queue("reminder", "tina@example.org")
    settings = parse_email_url(f"smtp://127.0.0.1:{server.port}")  # type: ignore[attr-defined]
    # when five passes are made
    reports = [outbox_send(settings=settings) for _ in range(5)]
    # then each stopped on the 421, and the row is as it was
    assert all(r.error.startswith("421") for r in reports)
    row = Outbound.objects.get(key="reminder")
    assert (row.status, row.attempts, row.next_attempt_at) == ("rendered", 0, None)


def test_a_greylisting_server_gets_every_message_after_the_backoff(
    mail_book: None, greylister: Callable[[int], Greylister]
) -> None:
    # given six reminders and a server that greylists each address twice
    server = greylister(2)
    keys = [f"reminder-{n}" for n in range(6)]
    for n, key in enumerate(keys):
        queue(key, f"t{n}@example.org")
    settings = parse_email_url(f"smtp://127.0.0.1:{server.port}")  # type: ignore[attr-defined]
    clock = Clock(MONDAY_9)

    def send() -> SendReport:
        return outbox_send(settings=settings, now=clock)

    # when a burst of ten passes is made at 9:00
    burst = [send() for _ in range(10)]
    # then each message was tried once and put off for 15 minutes; nothing failed
    assert burst[0].retry == keys
    assert all(r.waiting == keys and not r.retry for r in burst[1:])
    assert set(server.seen.values()) == {1}
    row = Outbound.objects.get(key=keys[0])
    assert (row.attempts, row.next_attempt_at) == (1, MONDAY_9 + timedelta(minutes=15))
    assert "451" in row.error
    # when passes come at 9:14 (too soon), 9:15 (greylisted again: an hour more) and 10:15
    clock.at = MONDAY_9 + timedelta(minutes=14)
    too_soon = send()
    clock.at = MONDAY_9 + timedelta(minutes=15)
    second = send()
    clock.at = MONDAY_9 + timedelta(minutes=15, hours=1)
    third = send()
    # then every message was delivered, once each, on its third try
    assert (too_soon.retry, too_soon.sent) == ([], [])
    assert second.retry == keys
    assert third.sent == keys
    assert sorted(r.rcpt_tos[0] for r in server.received) == [f"t{n}@example.org" for n in range(6)]
    assert {(r.status, r.attempts, r.next_attempt_at) for r in Outbound.objects.all()} == {
        ("sent", 3, None)
    }
    assert not TimelineEvent.objects.filter(kind="email.failed").exists()


def test_a_message_put_off_for_ever_is_given_up_only_after_the_schedule(
    mail_book: None, greylister: Callable[[int], Greylister]
) -> None:
    # given a reminder and a server that answers 451 to it for ever
    server = greylister(-1)
    queue("reminder", "tina@example.org")
    settings = parse_email_url(f"smtp://127.0.0.1:{server.port}")  # type: ignore[attr-defined]
    clock = Clock(MONDAY_9)
    schedule = RetrySchedule()
    # when a pass is made every five minutes for four days
    tried_at = []
    while clock.at < MONDAY_9 + timedelta(days=4):
        report = outbox_send(settings=settings, now=clock, schedule=schedule)
        if report.retry or report.failed:
            tried_at.append(clock.at - MONDAY_9)
        if report.failed:
            break
        clock.at += timedelta(minutes=5)
    # then it was tried after 15 min, 1 h, 3 h, 6 h, 12 h and 24 h, then daily until two days
    # had passed since the first try, and given up then, not before
    assert tried_at == [
        timedelta(0),
        timedelta(minutes=15),
        timedelta(hours=1, minutes=15),
        timedelta(hours=4, minutes=15),
        timedelta(hours=10, minutes=15),
        timedelta(hours=22, minutes=15),
        timedelta(hours=46, minutes=15),
        timedelta(hours=70, minutes=15),
    ]
    row = Outbound.objects.get(key="reminder")
    assert (row.status, row.attempts) == ("failed", 8)
    assert row.given_up_at == MONDAY_9 + timedelta(hours=70, minutes=15)
    assert row.error.startswith("451 4.7.1 Greylisted")
    event = TimelineEvent.objects.get(kind="email.failed")
    assert "not sent after 8 tries since 2026-03-02 14:00 UTC: 451" in event.summary
    assert server.seen == {"tina@example.org": 8}


def test_the_schedule_is_a_setting(settings: Any) -> None:
    # given a company that waits 10 minutes, then 2 hours, and gives up after a day
    settings.ARREARS_MAIL_RETRY = "10m 2h"
    settings.ARREARS_MAIL_GIVE_UP_AFTER = "1d"
    # when the schedule is read
    schedule = RetrySchedule.from_env()
    # then it says so, and refuses what is not a duration
    assert schedule == RetrySchedule((timedelta(minutes=10), timedelta(hours=2)), timedelta(1))
    start = MONDAY_9
    assert schedule.next_try(attempts=1, first=start, now=start) == start + timedelta(minutes=10)
    assert schedule.next_try(attempts=3, first=start, now=start + timedelta(hours=5)) == (
        start + timedelta(hours=7)
    )
    assert schedule.next_try(attempts=3, first=start, now=start + timedelta(days=1)) is None
    with pytest.raises(ValidationError, match="not a duration"):
        duration("soon")


class Stalling(smtp_server.Recorder):
    """Takes every message, but says nothing for `seconds` after the DATA of one address."""

    def __init__(self, address: str, seconds: float) -> None:
        super().__init__()
        self.address = address
        self.seconds = seconds

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.address in envelope.rcpt_tos:
            await asyncio.sleep(self.seconds)
        return await super().handle_DATA(server, session, envelope)


def test_a_message_that_times_out_waits_its_turn_and_does_not_block_the_queue(
    mail_book: None,
) -> None:
    # given a reminder the server stalls on (longer than our timeout), and one behind it
    handler = Stalling("slow@example.org", seconds=1.5)
    controller = smtp_server.start(handler)
    try:
        queue("stalled", "slow@example.org")
        queue("behind", "tina@example.org")
        settings = parse_email_url(f"smtp://127.0.0.1:{controller.port}?timeout=0.5")
        clock = Clock(MONDAY_9)
        # when a pass is made, and another right after
        first = outbox_send(settings=settings, now=clock)
        second = outbox_send(settings=settings, now=clock)
    finally:
        controller.stop()
    # then the stalled message counted its try and waits 15 minutes; the pass stopped on it, and
    # the next one sent the message behind it
    assert first.retry == ["stalled"]
    assert "timed out" in first.error
    stalled = Outbound.objects.get(key="stalled")
    assert (stalled.status, stalled.attempts) == ("rendered", 1)
    assert stalled.next_attempt_at == MONDAY_9 + timedelta(minutes=15)
    assert (second.sent, second.waiting) == (["behind"], ["stalled"])
