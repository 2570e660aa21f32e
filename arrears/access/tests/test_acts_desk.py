"""The call and the promise as the desk takes them (issue 15, item 3), through the acts the
command line, the pages and the API share: Alice calls Tina (A-TINA, 1,200.00 of March rent
unpaid) on March 26, 2026."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from arrears.access import acts
from arrears.access.models import AuditEntry
from arrears.dunning.models import ContactAttempt
from arrears.dunning.services import hold_place
from arrears.ledger.models import TimelineEvent
from arrears.plans.models import Promise
from arrears.plans.selectors import PromiseQuestionedError, promise_questions

pytestmark = pytest.mark.django_db
TODAY = date(2026, 3, 26)


def by(people):
    return acts.By(people["alice"], "cli", "")


def call(people, **kw):
    args = {"account_id": "A-TINA", "party_id": "P-TINA", "outcome": "promise"}
    return acts.call_log(by=by(people), **{**args, **kw})


def test_a_call_with_a_promise_records_both_in_one_act(people):
    # when Alice logs a call at 10:00 Tina's time in which Tina promised 600.00 by April 3
    logged = call(
        people,
        at="2026-03-26T10:00",
        promise=acts.PromiseTaken(Decimal("600.00"), date(2026, 4, 3)),
    )
    # then the call is logged, the promise is Tina's, by phone, and one audit row has both
    assert logged.recorded
    assert (logged.promise.amount, logged.promise.party.party_id, logged.promise.channel) == (
        Decimal("600.00"),
        "P-TINA",
        "phone",
    )
    kinds = set(TimelineEvent.objects.values_list("kind", flat=True))
    assert {"call.logged", "promise.made"} <= kinds
    audit = AuditEntry.objects.get(verb="call.log")
    assert audit.detail["promise"]["amount"] == "600.00"


@pytest.mark.parametrize(
    ("amount", "promised_on", "codes"),
    [
        ("2000.00", date(2026, 4, 3), ["above_balance"]),
        ("100.00", date(2026, 6, 30), ["far_off"]),  # 96 days off
        ("5000.00", date(2026, 12, 1), ["above_balance", "far_off"]),
    ],
)
def test_a_promise_that_may_be_a_mistake_is_asked_about_and_saved_when_confirmed(
    people, amount, promised_on, codes
):
    terms = {"account_id": "A-TINA", "amount": Decimal(amount), "promised_on": promised_on}
    with pytest.raises(PromiseQuestionedError) as asked:
        acts.promise_record(by=by(people), **terms)
    assert asked.value.code == "promise_needs_confirmation"
    assert [q["code"] for q in asked.value.extra["reasons"]] == codes
    assert not Promise.objects.exists()
    assert not AuditEntry.objects.filter(verb="promise.record").exists()
    acts.promise_record(by=by(people), confirm=True, **terms)
    assert Promise.objects.count() == 1


def test_a_second_open_promise_is_asked_about_on_a_call_too(people):
    acts.promise_record(
        by=by(people), account_id="A-TINA", amount=Decimal("300"), promised_on=date(2026, 4, 1)
    )
    assert [
        q["code"]
        for q in promise_questions(
            account_id="A-TINA", amount=Decimal("300"), promised_on=date(2026, 4, 10), on=TODAY
        )
    ] == ["duplicate"]
    promise = acts.PromiseTaken(Decimal("300.00"), date(2026, 4, 10))
    with pytest.raises(PromiseQuestionedError):
        call(people, at="2026-03-26T10:00", promise=promise)
    # nothing of the call is written either: it is one act
    assert not TimelineEvent.objects.filter(kind="call.logged").exists()
    assert call(people, at="2026-03-26T10:00", promise=promise, confirm=True).promise is not None
    assert Promise.objects.count() == 2


def test_a_call_made_late_at_night_is_recorded_with_the_guards_warning(people):
    # when Alice logs, the next morning, the call she made at 23:10 Tina's time
    logged = call(people, outcome="no-answer", at="2026-03-25T23:10")
    # then it is on the timeline as a call, with the hours rule's warning, and counts as made
    assert (logged.recorded, logged.warned, logged.decision.rule) == (True, True, "hours")
    event = logged.event
    assert (event.kind, event.detail["warning_rule"]) == ("call.logged", "hours")
    assert "the guard warns" in event.summary
    assert ContactAttempt.objects.count() == 1


def test_a_call_logged_now_that_the_guard_refuses_saves_no_promise(people):
    hold_place(account_id="A-TINA", reason="cease", on=TODAY, actor="alice")
    logged = call(people, promise=acts.PromiseTaken(Decimal("100"), date(2026, 4, 1)))
    assert not logged.recorded
    assert logged.event.kind == "call.refused"
    assert logged.promise is None
    assert not Promise.objects.exists()


def test_a_call_is_not_logged_ahead_of_its_time(people):
    from arrears.core.errors import ValidationError

    with pytest.raises(ValidationError) as refused:
        call(people, outcome="no-answer", at="2099-01-01T10:00")
    assert refused.value.code == "call_in_future"
