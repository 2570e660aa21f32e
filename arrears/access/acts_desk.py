"""The acts of a coordinator's call and promise (see arrears.access.acts, which offers them):
a call logged, with the promise taken on it, and a promise recorded, each asked its questions
before it is saved (`plans.selectors.promise_questions`: above the balance, far off, beside an
open promise) unless confirmed."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from arrears.access.acting import By, money_text, run_act
from arrears.core.dates import today
from arrears.core.errors import ValidationError
from arrears.dunning import contact
from arrears.dunning.contact import CallLogged
from arrears.plans import services as plans
from arrears.plans.models import Promise
from arrears.plans.selectors import promise_check

NOTE_LIMIT = 500  # a call's note (as arrears.access.acts)
CALL_CLOCK_SLACK = timedelta(minutes=5)  # a call's time typed a little ahead of the server's clock


@dataclass(frozen=True)
class PromiseTaken:
    """A promise taken on a call: its amount and the day it is to be paid by."""

    amount: Decimal
    promised_on: date


def _call_moment(account_id: str, party_id: str, at: str) -> datetime:
    """When the call was made: `at` read in the party's zone, or now; never ahead of the clock."""
    now = timezone.now()
    if not at:
        return now
    moment = contact.local_time(at, contact.party_zone(account_id=account_id, party_id=party_id))
    if moment > now + CALL_CLOCK_SLACK:
        raise ValidationError(
            _("a call is logged once it is made: {at} is still to come"),
            code="call_in_future",
            at=at,
        )
    return moment


def call_log(
    *,
    by: By,
    account_id: str,
    party_id: str,
    outcome: str,
    note: str = "",
    at: str = "",
    promise: PromiseTaken | None = None,
    confirm: bool = False,
) -> CallLogged:
    """A call and its outcome (`dunning.contact.call_log`), with the promise taken on it when the
    outcome is "promise" (`plans.services.promise_add`, the called party's, by phone).

    A call logged now (`at` empty) that the guard refuses is recorded refused, no promise saved;
    one made already (`at`, in the party's zone) is recorded with the guard's warning. A promise
    with questions (`promise_questions`) is saved only with `confirm`."""
    at, note = at.strip(), note[:NOTE_LIMIT]
    if promise is not None and outcome != "promise":
        raise ValidationError(
            _("a promise is taken on a call whose outcome is promise, not {outcome}"),
            code="call_promise_without_outcome",
            outcome=outcome,
        )

    def do(_account: Any) -> CallLogged:
        moment = _call_moment(account_id, party_id, at)
        if promise is not None and not confirm:
            promise_check(
                account_id=account_id,
                amount=promise.amount,
                promised_on=promise.promised_on,
                on=today(),
            )
        logged = contact.call_log(
            account_id=account_id,
            party_id=party_id,
            outcome=outcome,
            at=moment,
            actor=by.name,
            note=note,
            after_the_fact=bool(at),
        )
        if promise is None or not logged.recorded:
            return logged
        made = plans.promise_add(
            account_id=account_id,
            amount=promise.amount,
            promised_on=promise.promised_on,
            on=today(),
            actor=by.name,
            party_id=party_id,
            channel="phone",
        )
        return replace(logged, promise=made)

    detail: dict[str, Any] = {"party_id": party_id, "outcome": outcome, "note": note, "at": at}
    if promise is not None:
        detail["promise"] = _promise_detail(promise, confirm)
    return run_act(by, "call.log", account_id=account_id, detail=detail, do=do)


def _promise_detail(promise: PromiseTaken, confirm: bool) -> dict[str, Any]:
    return {
        "amount": money_text(promise.amount),
        "promised_on": promise.promised_on.isoformat(),
        "confirmed": confirm,
    }


def promise_record(
    *,
    by: By,
    account_id: str,
    amount: Decimal,
    promised_on: date,
    party_id: str | None = None,
    channel: str = "phone",
    confirm: bool = False,
) -> Promise:
    """A promise to pay `amount` by `promised_on` (`plans.services.promise_add`). A promise
    above the balance, more than 60 days off or beside an open promise is saved only with
    `confirm` (PromiseQuestionedError, code promise_needs_confirmation, otherwise)."""
    detail = {
        "amount": money_text(amount),
        "promised_on": promised_on.isoformat(),
        "party_id": party_id or "",
        "channel": channel,
        **({"confirmed": True} if confirm else {}),
    }

    def do(_account: Any) -> Promise:
        on = today()
        if not confirm:
            promise_check(account_id=account_id, amount=amount, promised_on=promised_on, on=on)
        return plans.promise_add(
            account_id=account_id,
            amount=amount,
            promised_on=promised_on,
            on=on,
            actor=by.name,
            party_id=party_id or None,
            channel=channel,
        )

    return run_act(by, "promise.record", account_id=account_id, detail=detail, do=do)
