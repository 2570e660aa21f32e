"""`mail send` in batches, in-process (no broker): the same batch function the workers call
(arrears.dunning.email_batches), against a real SMTP server (aiosmtpd).

Five tenants at Elm Court, Brooklyn, each owing March's rent of 100.00; the run of March 2 queues
each a reminder by email, sent at 10:00 in Brooklyn, two emails a batch (three batches).
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from arrears.correspondence.mail_out import Sender, parse_email_url
from arrears.correspondence.models import Outbound
from arrears.dunning.contact import emails_send
from arrears.dunning.email_batches import email_batch_send
from arrears.dunning.models import Action
from arrears.dunning.services import cycle_run
from arrears.dunning.tests.test_contact import archive  # noqa: F401  (the fixture)
from arrears.ledger.models import TimelineEvent

NY = ZoneInfo("America/New_York")
MARCH_2 = date(2026, 3, 2)
AT_TEN = datetime(2026, 3, 2, 10, 0, tzinfo=NY)
DOMAIN = "elmcourt.example"


@pytest.fixture(autouse=True)
def two_a_batch(settings):
    settings.ARREARS_EMAIL_BATCH = 2


def send(smtp):
    return emails_send(
        on=MARCH_2,
        settings=parse_email_url(smtp.url),
        now=lambda: AT_TEN,
        sender=Sender(f"rent@{DOMAIN}", "Elm Court", DOMAIN),
    )


def email_keys() -> list[str]:
    return list(
        Outbound.objects.filter(channel="email").order_by("id").values_list("key", flat=True)
    )


def test_five_reminders_go_in_three_batches_each_once_in_the_order_of_one_pass(small_leases, smtp):
    # given five reminders queued by the run
    small_leases(5)
    cycle_run(on=MARCH_2)
    # when the emails are sent two a batch, and sent again
    first = send(smtp)
    second = send(smtp)
    # then each reached its tenant once, and the report names them in the order of one pass
    keys = email_keys()
    assert len(keys) == 5
    assert first.report.sent == keys
    assert second.report.sent == []
    assert sorted(r.rcpt_tos[0] for r in smtp.received) == [
        f"t{n}@example.org" for n in range(1, 6)
    ]
    assert sorted(smtp.message_ids()) == sorted(set(smtp.message_ids()))
    # and every action is done, each with one "email.sent" on its timeline
    assert set(Action.objects.filter(channel="email").values_list("status", flat=True)) == {"done"}
    assert TimelineEvent.objects.filter(kind="email.sent").count() == 5


def test_a_batch_tried_again_after_its_worker_died_sends_nothing_twice_and_reports_it_all(
    small_leases, smtp
):
    # given five reminders prepared, and a first try of their batch that sent two of them
    # before its worker died
    small_leases(5)
    cycle_run(on=MARCH_2)
    server = parse_email_url(smtp.url)
    smtp.down = True  # a send prepares them all, the server refusing service: nothing went
    send(smtp)
    smtp.down = False
    keys = email_keys()
    email_batch_send(keys=keys[:2], on=MARCH_2, settings=server, now=lambda: AT_TEN)
    assert len(smtp.received) == 2
    # when the batch is tried again (redelivered to another worker)
    report = email_batch_send(keys=keys, on=MARCH_2, settings=server, now=lambda: AT_TEN)
    # then the other three went, each email reached the server once, and the batch's report
    # names all five as sent, in the batch's order
    assert len(smtp.received) == 5
    assert len(set(smtp.message_ids())) == 5
    assert report.sent == keys
    assert (report.retry, report.failed, report.error) == ([], [], "")


def test_a_server_that_cannot_be_reached_stops_the_send_at_its_first_batch(small_leases, smtp):
    # given five reminders and a server that answers 421 to every message
    small_leases(5)
    cycle_run(on=MARCH_2)
    smtp.down = True
    # when the emails are sent two a batch
    run = send(smtp)
    # then the send stopped at the first email, as one pass does: no try counted, nothing sent,
    # the later batches not begun
    keys = email_keys()
    assert run.report.retry == keys[:1]
    assert run.report.sent == []
    assert "421" in run.report.error
    assert set(Outbound.objects.values_list("attempts", flat=True)) == {0}
    assert smtp.received == []
