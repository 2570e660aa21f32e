"""The compliance guard, asked directly: contact hours in the debtor's own zone across the 2026
DST changes, call frequency, consent and opt-out, holds. Pure: no database.

Tina Ortiz lives in Brooklyn (America/New_York); Carmen Ruiz in Los Angeles
(America/Los_Angeles). In 2026 the clocks go forward on March 8 and back on November 1.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from arrears.dunning.guard import ActiveHold, CallHistory, ContactPoint, guard_check

NEW_YORK = "America/New_York"
LOS_ANGELES = "America/Los_Angeles"
SPRING_FORWARD = date(2026, 3, 8)
FALL_BACK = date(2026, 11, 1)

TINA = ContactPoint(party_id="P-TINA", timezone=NEW_YORK)
CARMEN = ContactPoint(party_id="P-CARMEN", timezone=LOS_ANGELES)


def local(day: date, at: time, zone: str) -> datetime:
    """The instant, in UTC, when the wall clock in `zone` shows `day` `at`."""
    return datetime.combine(day, at, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def offset(day: date, zone: str) -> timedelta | None:
    """The zone's UTC offset at 20:59 on `day`."""
    return datetime.combine(day, time(20, 59), ZoneInfo(zone)).utcoffset()


def call(contact: ContactPoint, at: datetime, calls: CallHistory | None = None, holds=()):
    return guard_check(
        action="notice", channel="call", at=at, holds=holds, contact=contact, calls=calls
    )


@pytest.mark.parametrize("contact", [TINA, CARMEN], ids=["new-york", "los-angeles"])
@pytest.mark.parametrize("day", [SPRING_FORWARD, FALL_BACK], ids=["march-8", "november-1"])
@pytest.mark.parametrize("channel", ["call", "sms"])
def test_a_contact_at_20_59_local_is_allowed_and_at_21_00_refused_on_the_dst_days(
    contact, day, channel
):
    # given: the debtor consents to texts; her zone's UTC offset changes that day, so a fixed
    # offset would put 21:00 an hour off
    who = ContactPoint(party_id=contact.party_id, timezone=contact.timezone, sms_consent=True)
    assert offset(day - timedelta(days=1), who.timezone) != offset(day, who.timezone)
    before, at_nine = local(day, time(20, 59), who.timezone), local(day, time(21), who.timezone)

    # when
    allowed = guard_check(action="notice", channel=channel, at=before, holds=(), contact=who)
    refused = guard_check(action="notice", channel=channel, at=at_nine, holds=(), contact=who)

    # then
    assert allowed.allowed
    assert (refused.allowed, refused.rule) == (False, "hours")
    assert refused.reason.startswith(f"21:00 {who.timezone} is outside 08:00")


@pytest.mark.parametrize("contact", [TINA, CARMEN], ids=["new-york", "los-angeles"])
@pytest.mark.parametrize("day", [SPRING_FORWARD, FALL_BACK], ids=["march-8", "november-1"])
def test_a_call_at_7_59_local_is_refused_and_at_8_00_allowed_on_the_dst_days(contact, day):
    # when
    early = call(contact, local(day, time(7, 59), contact.timezone))
    on_time = call(contact, local(day, time(8, 0), contact.timezone))

    # then
    assert (early.allowed, early.rule) == (False, "hours")
    assert on_time.allowed


def test_carmens_hours_are_her_own_not_new_yorks():
    # given: 20:30 in Los Angeles is 23:30 in New York
    at = local(SPRING_FORWARD, time(20, 30), LOS_ANGELES)

    # when / then
    assert call(CARMEN, at).allowed
    assert call(TINA, at).rule == "hours"


def test_letters_are_not_bound_by_contact_hours():
    # when
    decision = guard_check(
        action="notice",
        channel="certified_letter",
        holds=(),
        contact=TINA,
        at=local(FALL_BACK, time(23, 30), NEW_YORK),
    )

    # then
    assert decision.allowed


def test_the_8th_call_attempt_in_7_days_is_refused():
    # given: Tina was called once a day, at 10:00, from March 2 to March 8 (across the DST change)
    attempts = [local(date(2026, 3, d), time(10), NEW_YORK) for d in range(2, 9)]
    assert len(attempts) == 7

    # when: a coordinator would call again on March 8 at 18:00
    decision = call(TINA, local(SPRING_FORWARD, time(18), NEW_YORK), CallHistory(attempts))

    # then
    assert (decision.allowed, decision.rule) == (False, "frequency")
    assert decision.reason == "7 call attempts in 7 days"


def test_the_7th_call_attempt_in_7_days_is_allowed():
    # given: six attempts
    attempts = [local(date(2026, 3, d), time(10), NEW_YORK) for d in range(3, 9)]

    # when
    decision = call(TINA, local(SPRING_FORWARD, time(18), NEW_YORK), CallHistory(attempts))

    # then
    assert decision.allowed


def test_attempts_more_than_7_days_ago_do_not_count():
    # given: seven attempts from March 2 to March 8 at 10:00
    attempts = [local(date(2026, 3, d), time(10), NEW_YORK) for d in range(2, 9)]

    # when: the next call is on March 9 at 11:30, more than 7 × 24 hours after the first (at
    # 10:30 it would not be: the clocks went forward in between, and a week is 168 hours)
    decision = call(TINA, local(date(2026, 3, 9), time(11, 30), NEW_YORK), CallHistory(attempts))

    # then
    assert decision.allowed


def test_a_call_within_7_days_after_a_conversation_is_refused():
    # given: Tina and Alice spoke on October 28 at 15:00; the clocks go back on November 1
    talked = local(date(2026, 10, 28), time(15), NEW_YORK)
    history = CallHistory(attempts=[talked], conversations=[talked])

    # when: a call on November 3 at 14:00, then on November 4 at 16:00
    within = call(TINA, local(date(2026, 11, 3), time(14), NEW_YORK), history)
    after = call(TINA, local(date(2026, 11, 4), time(16), NEW_YORK), history)

    # then
    assert (within.allowed, within.rule) == (False, "frequency")
    assert within.reason == "a conversation in the last 7 days"
    assert after.allowed


def test_frequency_caps_do_not_apply_to_letters():
    # given: seven call attempts and a conversation today
    now = local(SPRING_FORWARD, time(12), NEW_YORK)
    attempts = [now - timedelta(hours=h) for h in range(1, 8)]
    history = CallHistory(attempts=attempts, conversations=attempts[:1])

    # when
    decision = guard_check(
        action="notice", channel="letter", at=now, holds=(), contact=TINA, calls=history
    )

    # then
    assert decision.allowed


def test_a_text_without_consent_is_refused():
    # given: Tina has a phone number but never agreed to texts
    at = local(SPRING_FORWARD, time(12), NEW_YORK)

    # when
    decision = guard_check(action="notice", channel="sms", at=at, holds=(), contact=TINA)

    # then
    assert (decision.allowed, decision.rule) == (False, "channel:no consent to texts")
    assert decision.reason == "cannot use sms: no consent to texts"


def test_a_text_with_consent_is_allowed():
    # given
    tina = ContactPoint(party_id="P-TINA", timezone=NEW_YORK, sms_consent=True)

    # when
    decision = guard_check(
        action="notice",
        channel="sms",
        holds=(),
        contact=tina,
        at=local(SPRING_FORWARD, time(12), NEW_YORK),
    )

    # then
    assert decision.allowed


@pytest.mark.parametrize("channel", ["email", "sms", "call", "letter"])
def test_an_opt_out_stops_that_channel_and_only_that_one(channel):
    # given: Tina opted out of one channel; she consented to texts before
    tina = ContactPoint(
        party_id="P-TINA", timezone=NEW_YORK, sms_consent=True, opted_out=frozenset({channel})
    )
    at = local(SPRING_FORWARD, time(12), NEW_YORK)

    # when
    stopped = guard_check(action="notice", channel=channel, at=at, holds=(), contact=tina)
    others = [
        guard_check(action="notice", channel=c, at=at, holds=(), contact=tina)
        for c in ("email", "sms", "call", "letter")
        if c != channel
    ]

    # then
    assert (stopped.allowed, stopped.rule) == (False, "channel:opted out")
    assert all(d.allowed for d in others)


@pytest.mark.parametrize(
    ("contact", "channel", "rule"),
    [
        (ContactPoint("P-TINA", NEW_YORK, has_email=False), "email", "channel:no email address"),
        (
            ContactPoint("P-TINA", NEW_YORK, has_address=False),
            "certified_letter",
            "channel:no postal address",
        ),
        (ContactPoint("P-TINA", NEW_YORK, has_phone=False), "call", "channel:no phone number"),
    ],
)
def test_a_channel_without_its_address_is_refused(contact, channel, rule):
    # when
    decision = guard_check(
        action="notice",
        channel=channel,
        holds=(),
        contact=contact,
        at=local(SPRING_FORWARD, time(12), NEW_YORK),
    )

    # then
    assert (decision.allowed, decision.rule) == (False, rule)


@pytest.mark.parametrize("action", ["notice", "fee", "recommend_referral"])
def test_a_bankruptcy_stay_stops_every_step_fees_included(action):
    # given
    stay = ActiveHold("bankruptcy")

    # when
    decision = guard_check(
        action=action,
        channel="letter" if action == "notice" else None,
        at=local(SPRING_FORWARD, time(12), NEW_YORK),
        holds=[stay],
        contact=TINA if action == "notice" else None,
    )

    # then
    assert (decision.allowed, decision.rule) == (False, "hold:bankruptcy")
    assert decision.reason == "bankruptcy hold on the account"


def test_a_hold_on_greg_stops_contact_with_greg_only():
    # given
    greg = ContactPoint(party_id="P-GREG", timezone=NEW_YORK)
    holds = [ActiveHold("represented", party_id="P-GREG")]
    at = local(SPRING_FORWARD, time(12), NEW_YORK)

    # when
    to_greg = guard_check(action="notice", channel="letter", at=at, holds=holds, contact=greg)
    to_tina = guard_check(action="notice", channel="letter", at=at, holds=holds, contact=TINA)
    fee = guard_check(action="fee", channel=None, at=at, holds=holds)

    # then
    assert (to_greg.allowed, to_greg.rule) == (False, "hold:represented")
    assert to_tina.allowed
    assert fee.allowed


def test_a_manual_hold_ends_after_its_date():
    # given: a manual hold until March 7
    holds = [ActiveHold("manual", until=date(2026, 3, 7))]

    # when
    during = guard_check(
        action="fee", channel=None, holds=holds, at=local(date(2026, 3, 7), time(12), NEW_YORK)
    )
    after = guard_check(
        action="fee", channel=None, holds=holds, at=local(SPRING_FORWARD, time(12), NEW_YORK)
    )

    # then
    assert (during.allowed, during.rule) == (False, "hold:manual")
    assert after.allowed


def test_a_hold_ends_by_the_debtors_calendar_whatever_zone_the_time_is_written_in():
    # given: a manual hold until March 7, and 20:30 on March 7 in New York
    holds = [ActiveHold("manual", until=date(2026, 3, 7))]
    evening = datetime.combine(date(2026, 3, 7), time(20, 30), ZoneInfo(NEW_YORK))

    # when: the same instant, written in New York's zone and in UTC
    in_new_york = guard_check(
        action="notice", channel="letter", at=evening, holds=holds, contact=TINA
    )
    in_utc = guard_check(
        action="notice", channel="letter", at=evening.astimezone(UTC), holds=holds, contact=TINA
    )

    # then: the hold still stands in both
    assert (in_new_york.allowed, in_new_york.rule) == (False, "hold:manual")
    assert (in_utc.allowed, in_utc.rule) == (False, "hold:manual")
