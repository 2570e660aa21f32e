"""A notice sent by hand, now (`notices.notice_send`): through the guard at that minute, queued
once a day, nothing written when refused. Tina's lease at Elm Court, March 7, 2026."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from arrears.core.errors import NotFoundError, ValidationError
from arrears.correspondence.models import Outbound
from arrears.correspondence.services import letters_batch, mail_returned
from arrears.dunning.notices import (
    GuardRefusedError,
    NoticeNotInPolicyError,
    NoticeQuestionedError,
    notice_send,
)
from arrears.dunning.selectors import notice_choices, preview_deadline
from arrears.dunning.services import hold_place
from arrears.ledger.models import Account, TimelineEvent
from arrears.plans.services import promise_add

ON = date(2026, 3, 7)
NOON = datetime(2026, 3, 7, 12, 0, tzinfo=ZoneInfo("America/New_York"))
NIGHT = datetime(2026, 3, 7, 22, 0, tzinfo=ZoneInfo("America/New_York"))


def send(**kw):
    args = {
        "account_id": "A-TINA",
        "template": "ny-late-rent-notice",
        "channel": "letter",
        "on": ON,
        "actor": "alice",
        "at": NOON,
        **kw,
    }
    return notice_send(**args)


def test_a_letter_sent_now_is_queued_for_the_batch_once_a_day(tina_lease):
    tina_lease()
    # when Alice sends the late notice now, twice
    first = send(party_id="P-GREG", template="ny-late-rent-notice-guarantor")
    again = send(party_id="P-GREG", template="ny-late-rent-notice-guarantor")
    # then one letter waits for the batch, named for the archive, with one timeline row
    assert (first.created, again.created) == (True, False)
    row = Outbound.objects.get()
    assert (row.status, row.role, row.run_on, row.party.party_id) == (
        "queued",
        "guarantor",
        ON,
        "P-GREG",
    )
    assert row.document_name.startswith(
        "letters/2026/03/07/A-TINA-ny-late-rent-notice-guarantor-P-GREG-"
    )
    event = TimelineEvent.objects.get(kind="notice.queued")
    assert event.detail["outbound"] == row.pk


def test_a_notice_to_the_primary_by_default_and_an_email_needs_an_address(tina_lease):
    tina_lease()
    assert send().outbound.party.party_id == "P-TINA"
    email = send(channel="email")
    assert (email.outbound.channel, email.outbound.recipient) == ("email", "tina@example.org")


@pytest.mark.parametrize(
    ("setup", "at", "rule"),
    [
        (
            lambda: hold_place(account_id="A-TINA", reason="cease", on=ON, actor="alice"),
            NOON,
            "hold:cease",
        ),
        (
            lambda: promise_add(
                account_id="A-TINA",
                amount=Decimal("100.00"),
                promised_on=date(2026, 3, 10),
                on=ON,
                actor="alice",
            ),
            NOON,
            "promise",
        ),
        (lambda: None, NIGHT, "hours"),
    ],
)
def test_a_notice_the_guard_refuses_raises_its_rule_and_writes_nothing(tina_lease, setup, at, rule):
    tina_lease()
    setup()
    with pytest.raises(GuardRefusedError) as refused:
        send(channel="email", at=at)
    assert refused.value.code == "guard_refused"
    assert refused.value.extra["rule"] == rule
    assert not Outbound.objects.exists()
    assert not TimelineEvent.objects.filter(kind="notice.queued").exists()


def test_a_bad_channel_template_or_party_is_refused_with_what_was_wrong(tina_lease):
    tina_lease()
    with pytest.raises(ValidationError, match="not 'fax'"):
        send(channel="fax")
    with pytest.raises(ValidationError, match="no template 'no-such'"):
        send(template="no-such")
    with pytest.raises(NotFoundError, match="P-NOBODY"):
        send(party_id="P-NOBODY")
    assert not Outbound.objects.exists()


def test_a_letter_by_hand_to_an_address_mail_came_back_from_is_refused(
    tina_lease, settings, tmp_path
):
    settings.STORAGES = {
        **settings.STORAGES,
        "archive": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "archive")},
        },
    }
    # given Greg's late notice sent, printed by the batch and come back undeliverable
    tina_lease()
    first = send(party_id="P-GREG", template="ny-late-rent-notice-guarantor")
    letters_batch(on=ON, output=tmp_path / "print", actor="alice", workers=1)
    mail_returned(letter=f"L{first.outbound.pk}", on=ON, actor="alice", reason="moved")
    # when Alice sends him another letter the next day, by hand
    with pytest.raises(GuardRefusedError) as refused:
        send(
            party_id="P-GREG",
            template="ny-late-rent-notice-guarantor",
            on=date(2026, 3, 8),
            at=datetime(2026, 3, 8, 12, 0, tzinfo=ZoneInfo("America/New_York")),
        )
    # then the guard refuses it, as the run would; Tina's own address is still good
    assert refused.value.extra["rule"] == "channel:mail returned undeliverable"
    assert send(party_id="P-TINA").created


def test_a_california_three_day_notice_for_a_new_york_tenant_is_refused_with_the_reason(
    tina_lease,
):
    tina_lease()
    # when Alice asks for a California 3-day notice by hand for Tina (a New York lease)
    with pytest.raises(NoticeNotInPolicyError) as refused:
        send(template="ca-3-day-notice-pay-or-quit")
    # then it is refused, naming the policy Tina follows and the notices it has; nothing queued
    assert refused.value.code == "notice_not_in_policy"
    assert "ca-3-day-notice-pay-or-quit is not a notice of the ny-residential policy" in (
        refused.value.message
    )
    assert "ny-rent-demand" in refused.value.extra["offered"]
    assert not Outbound.objects.exists()


def test_only_the_policys_notice_steps_are_offered_never_a_dispute_answer(tina_lease):
    tina_lease()
    account = Account.objects.get(account_id="A-TINA")
    offered = notice_choices(account=account, on=ON).templates
    assert offered == (
        "ny-rent-reminder",
        "ny-late-rent-notice",
        "ny-late-rent-notice-guarantor",
        "ny-rent-demand",
    )
    with pytest.raises(NoticeNotInPolicyError):
        send(template="dispute-upheld")


def test_a_rent_demand_sent_by_hand_carries_the_deadline_its_step_counts(tina_lease):
    tina_lease()
    # when Alice sends the 14-day demand by hand on March 7
    queued = send(template="ny-rent-demand").outbound
    # then it names the deadline as the policy's step counts it, never an empty one: 14 days
    # end on Saturday March 21, carried to Monday March 23 (NY GCL §25-a)
    assert queued.deadline == date(2026, 3, 23)
    assert queued.policy == "ny-residential"


def test_a_preview_names_the_deadline_the_letter_will_name(tina_lease):
    tina_lease()
    # when Alice previews the 14-day demand on March 7 (14 days end on Saturday March 21)
    deadline = preview_deadline(account_id="A-TINA", template="ny-rent-demand", on=ON)
    # then it shows what the letter sent that day will say: Monday March 23 (NY GCL §25-a)
    assert deadline == send(template="ny-rent-demand").outbound.deadline == date(2026, 3, 23)
    # a template her policy does not send keeps its nominal calendar days; no account, the same
    assert preview_deadline(account_id="A-TINA", template="b2b-final-notice", on=ON) == date(
        2026, 4, 6
    )
    assert preview_deadline(account_id="nobody", template="ny-rent-reminder", on=ON) is None


def test_a_tenants_notice_is_not_sent_to_the_guarantor(tina_lease):
    tina_lease()
    with pytest.raises(ValidationError) as refused:
        send(party_id="P-GREG")
    assert refused.value.code == "notice_not_for_role"
    assert not Outbound.objects.exists()


def test_a_statutory_notice_by_hand_is_queued_only_confirmed(tina_lease):
    # given Tina's lease (NY): the RPAPL §711(2) demand is statutory
    tina_lease()
    # when it is sent unconfirmed, it is asked about, with its law and deadline, and not queued
    with pytest.raises(NoticeQuestionedError) as asked:
        send(template="ny-rent-demand", confirm=False)
    assert asked.value.code == "notice_needs_confirmation"
    assert asked.value.extra["law"] == "NY RPAPL §711(2), §702"
    assert asked.value.extra["deadline"]
    assert not Outbound.objects.exists()
    # confirmed, it is queued
    assert send(template="ny-rent-demand", confirm=True).created
