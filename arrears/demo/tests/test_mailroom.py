"""The demo's office: its day's letters are recorded mailed with valid certified numbers, its
emails go through the send path into a folder dated on the demo's day, and its buildings are
shared by the demo's coordinator and a colleague."""

from __future__ import annotations

import email
import email.policy
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model

from arrears.access.assigned import accounts_assigned
from arrears.access.models import Assignment, Coverage
from arrears.access.services import user_add
from arrears.access.tests.people import OPERATOR
from arrears.correspondence.certified import article_number_problem
from arrears.correspondence.models import Outbound
from arrears.demo.book import write_demo_book
from arrears.demo.mailroom import demo_article_number, emails_send_day, letters_mail_day
from arrears.demo.team import COLLEAGUE, demo_team
from arrears.dunning.reissue import letters_print
from arrears.dunning.services import cycle_run
from arrears.dunning.worklist_detail import last_contacts
from arrears.ledger.models import TimelineEvent
from arrears.ledger.services import book_import

pytestmark = pytest.mark.django_db

DEMO_DAY = date(2026, 12, 2)  # a day of reminders by email
NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any) -> Path:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    monkeypatch.setenv("ARREARS_TODAY", DEMO_DAY.isoformat())
    write_demo_book(tmp_path / "demo", today=DEMO_DAY)
    book_import(tmp_path / "demo")
    return tmp_path


@pytest.mark.parametrize("letter_id", [1, 57, 123456789])
def test_a_demo_article_number_passes_the_usps_check(letter_id):
    number = demo_article_number(letter_id)
    assert len(number) == 22
    assert article_number_problem(number) == ""
    # and one digit changed does not
    wrong = number[:-1] + str((int(number[-1]) + 1) % 10)
    assert article_number_problem(wrong) != ""


def test_a_demo_day_mails_its_letters_and_sends_its_emails_on_that_day(demo):
    # given the day's run and its letters printed
    cycle_run(on=DEMO_DAY, actor="cycle")
    batch = letters_print(on=DEMO_DAY, output=demo / "print", actor="cycle")
    assert batch.letters
    assert batch.manifest is not None
    # when the demo's mailroom records them mailed and sends the day's emails
    mailed = letters_mail_day(manifest=batch.manifest, on=DEMO_DAY, actor="cycle")
    outbox = demo / "outbox"
    sent = emails_send_day(on=DEMO_DAY, folder=outbox, zone="America/New_York", actor="cycle")
    # then every printed letter is mailed that day, the certified ones with a valid number
    printed = Outbound.objects.filter(pk__in=[line["letter_id"] for line in batch.letters])
    assert mailed == len(batch.letters)
    assert {(o.status, o.mailed_on) for o in printed} == {("mailed", DEMO_DAY)}
    for letter in printed.filter(channel="certified_letter"):
        assert article_number_problem(letter.article_number) == ""
    # and every email is a message file addressed to its recipient, sent at 13:00 that day
    emails = Outbound.objects.filter(channel="email", status="sent")
    assert sent == emails.count() > 0
    files = sorted(outbox.glob("*.eml"))
    assert len(files) == sent
    recipients = {
        email.message_from_bytes(f.read_bytes(), policy=email.policy.default)["To"]
        .addresses[0]
        .addr_spec
        for f in files
    }
    assert recipients == set(emails.values_list("recipient", flat=True))
    at = datetime.combine(DEMO_DAY, time(13), tzinfo=NEW_YORK)
    assert {o.sent_at for o in emails} == {at}
    events = TimelineEvent.objects.filter(kind="email.sent")
    assert {e.at for e in events} == {at}
    # and the worklist's last contact is that day, in the book's zone
    contacts = last_contacts(list(emails.values_list("account_id", flat=True)))
    assert {day for day, _channel, _outcome in contacts.values()} <= {DEMO_DAY}


def test_the_demo_team_shares_the_buildings_once(demo):
    user_add(
        username="demo",
        password="a-long-demo-password",
        role="coordinator",
        actor=OPERATOR,
        via="system",
    )
    done = demo_team(coordinator="demo", login="tester", on=DEMO_DAY)
    assert done
    owners = {
        (a.user.get_username(), a.property.property_id)
        for a in Assignment.objects.select_related("user", "property")
    }
    assert owners == {
        ("demo", "MAR"),
        ("demo", "FUL"),
        (COLLEAGUE, "LSG"),
        (COLLEAGUE, "PHC"),
    }
    (coverage,) = Coverage.objects.all()
    assert coverage.starts_on > DEMO_DAY
    # the coordinator's own accounts are those of her two buildings
    mine = accounts_assigned(get_user_model().objects.get(username="demo"), DEMO_DAY)
    assert set(mine.values_list("property__property_id", flat=True)) == {"MAR", "FUL"}
    # and a second call changes nothing
    assert demo_team(coordinator="demo", login="tester", on=DEMO_DAY) == []
    assert Assignment.objects.count() == 4


def test_the_demos_move_outs_have_their_dispositions(demo):
    from datetime import timedelta

    from arrears.demo.deposits import demo_deposits
    from arrears.dunning.worklist import worklist
    from arrears.moveout.models import Disposition

    # given the demo's days, each with the coordinator's move-out work
    first = DEMO_DAY - timedelta(days=59)
    lines = []
    for n in range(60):
        lines += demo_deposits(on=first + timedelta(days=n), first_day=first, actor="cycle")
    dispositions = list(Disposition.objects.select_related("account"))
    # then some were disposed of in time, one late with its reason, one owes a refund
    assert len(dispositions) >= 3
    assert [d.account.account_id for d in dispositions if d.late_reason]
    assert all(d.posted_on <= d.statement_due for d in dispositions if not d.late_reason)
    assert [d for d in dispositions if d.refund_due > 0]
    # and one balance owed is on a payment plan
    owed = [d for d in dispositions if d.balance_owed > 0]
    assert any(d.account.plans.exists() for d in owed)
    assert any("plan of 6 monthly installments" in line for line in lines)
    # and one New York deposit left undone is on the worklist, overdue and forfeited
    overdue = [w for w in worklist(on=DEMO_DAY) if w.kind == "deposit_due"]
    assert any("forfeited" in w.reason and "overdue" in w.reason for w in overdue)
