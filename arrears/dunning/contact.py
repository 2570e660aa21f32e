"""Contacts at the moment they happen, through the guard: emails sent, calls logged, texts sent;
and the mail that needs an answer, for the worklist.

The daily run guards its steps at noon of its date; a contact made later is guarded again at the
minute it is made (an email waits for the morning rather than go out at 21:00; a hold placed since
the run stops it). Correspondence does the sending; this module asks the guard and keeps the
actions' status in step with what was sent:
- an email action stays `queued` until its email is sent (`done`, with its document), refused by
  the guard (`refused`, with the rule), or given up or bounced (`failed`, "email failed: …" or
  "email bounced: …"; the worklist shows it, and a step with a `fallback_channel` sends the same
  notice by letter: arrears.dunning.undelivered);
- a call logged closes the party's call tasks; a conversation (someone reached) starts the 7-day
  quiet period of 12 CFR §1006.14(b)(2)(ii);
- a STOP reply withdraws consent to email for that party (12 CFR §1006.6(e)).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from arrears.core.dates import EARLIEST, LATEST, book_zone, in_calendar
from arrears.core.errors import ValidationError
from arrears.correspondence.mail_in import FetchReport
from arrears.correspondence.mail_models import InboundEmail
from arrears.correspondence.sms import SmsError, SmsProvider, sms_send

# The guard's view of a party and the emails live in modules of their own; their callers import
# them from here too.
from arrears.dunning.addressee import NOT_HELD_BY as NOT_HELD_BY
from arrears.dunning.addressee import Addressee as Addressee
from arrears.dunning.addressee import _account, _guard, _party, _party_zone, addressee
from arrears.dunning.addressee import answer_addressee as answer_addressee
from arrears.dunning.emails import EmailRun as EmailRun
from arrears.dunning.emails import email_actions_settle as email_actions_settle
from arrears.dunning.emails import email_check as email_check
from arrears.dunning.emails import email_outbound_ensure as email_outbound_ensure
from arrears.dunning.emails import emails_send as emails_send
from arrears.dunning.emails import statement_email as statement_email
from arrears.dunning.guard import Decision
from arrears.dunning.models import Action, Consent, ContactAttempt
from arrears.ledger.models import TimelineEvent

CALL_OUTCOMES = (
    "no-answer",
    "left-message",
    "wrong-number",
    "promise",
    "dispute",
    "refused",
    "paid",
)
# Outcomes in which the debtor was reached: a telephone conversation (12 CFR §1006.14(b)(2)(ii)).
CONVERSATIONS = ("promise", "dispute", "refused", "paid")


@dataclass(frozen=True)
class CallLogged:
    decision: Decision
    event: TimelineEvent
    at: datetime
    zone: str
    promise: Any = None  # the promise taken on the call (arrears.access.acts.call_log)

    @property
    def recorded(self) -> bool:
        """The call counts as made: allowed, or logged after the fact with a warning."""
        return self.event.kind == "call.logged"

    @property
    def warned(self) -> bool:
        return self.recorded and not self.decision.allowed


def call_check(*, account_id: str, party_id: str, at: datetime) -> Decision:
    """May this party be called about this account at `at`? (Asked before dialling.)"""
    account = _account(account_id)
    return _guard(addressee(account, _party(party_id), at), "call", at)


@transaction.atomic
def call_log(
    *,
    account_id: str,
    party_id: str,
    outcome: str,
    at: datetime,
    actor: str,
    note: str = "",
    after_the_fact: bool = False,
) -> CallLogged:
    """Record a call placed at `at` and its outcome, asking the guard as of that minute.

    A call logged as it is made (`after_the_fact` False) that the guard refuses is recorded as
    refused, with its rule, and counts as no attempt; the caller reports the refusal. A call
    that already happened (`after_the_fact`: its time was given) is a fact: it is recorded
    whatever the guard says, with the guard's warning on the timeline (`warned`), since the book
    must show every contact made (Reg F, 12 CFR §1006.100: records of the collector's conduct).
    Otherwise the attempt counts for the call caps, a conversation starts the quiet period, and
    the party's open call tasks are closed.
    """
    _check_call(outcome, at)
    account = _account(account_id)
    party = _party(party_id)
    who = addressee(account, party, at)
    decision = _guard(who, "call", at)
    local = at.astimezone(ZoneInfo(who.zone))
    on = local.date()
    base = {
        "party_id": party_id,
        "outcome": outcome,
        "note": note,
        "at": at.isoformat(),
        "local_time": f"{local:%Y-%m-%d %H:%M} {who.zone}",
    }
    if not decision.allowed and not after_the_fact:
        summary = f"call to {party_id} at {local:%H:%M} refused ({decision.rule}): "
        event = TimelineEvent.objects.create(
            account=account,
            at=at,
            on=on,
            kind="call.refused",
            actor=actor,
            summary=f"{summary}{decision.reason}"[:500],
            detail={**base, "rule": decision.rule, "reason": decision.reason},
        )
        return CallLogged(decision, event, at, who.zone)
    event = _call_recorded(account, party, decision, at=at, on=on, actor=actor, base=base)
    return CallLogged(decision, event, at, who.zone)


def _call_recorded(
    account: Any, party: Any, decision: Decision, *, at: datetime, on: date, actor: str, base: Any
) -> TimelineEvent:
    """A call made: an attempt for the caps, the party's call tasks closed, its timeline row
    (with the guard's warning when it was not allowed then)."""
    outcome, note, party_id = base["outcome"], base["note"], base["party_id"]
    talked = outcome in CONVERSATIONS
    ContactAttempt.objects.create(
        account=account, party=party, channel="call", at=at, outcome=outcome, conversation=talked
    )
    closed = list(
        Action.objects.filter(
            account=account, party=party, channel="call", status="task"
        ).values_list("pk", flat=True)
    )
    Action.objects.filter(pk__in=closed).update(status="closed", reason=f"call: {outcome}")
    summary = f"call to {party_id}: {outcome.replace('-', ' ')}" + (f" — {note}" if note else "")
    detail = {**base, "conversation": talked, "tasks_closed": closed}
    if not decision.allowed:  # made already: recorded, with what the guard would have said
        summary += f" (logged after the fact; the guard warns, {decision.rule}: {decision.reason})"
        detail.update(warning_rule=decision.rule, warning=decision.reason)
    return TimelineEvent.objects.create(
        account=account,
        at=at,
        on=on,
        kind="call.logged",
        actor=actor,
        summary=summary[:500],
        detail=detail,
    )


def _check_call(outcome: str, at: datetime) -> None:
    if outcome not in CALL_OUTCOMES:
        raise ValidationError(
            _("a call's outcome is one of {choices}, not {outcome!r}"),
            code="call_outcome_unknown",
            outcome=outcome,
            choices=", ".join(CALL_OUTCOMES),
        )
    if at.tzinfo is None:
        raise ValidationError(
            _("the call's time needs its time zone"), code="call_time_without_zone", at=str(at)
        )


@dataclass
class TextRun:
    sent: list[str] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "deferred": self.deferred,
            "refused": self.refused,
            "failed": self.failed,
        }


def text_body(action: Action) -> str:
    account = action.account
    amount = f" of {action.amount:.2f} {account.currency}" if action.amount is not None else ""
    return f"{account.account_id}: a balance{amount} is past due. Please pay or call us."


def texts_send(
    *,
    on: date,
    provider: SmsProvider,
    now: Callable[[], datetime] = dj_timezone.now,
    actor: str = "sms",
) -> TextRun:
    """Send the text tasks due by `on` through the provider, each guarded at the minute it goes;
    a text sent closes its task."""
    run = TextRun()
    for action in (
        Action.objects.filter(status="task", channel="sms", run_on__lte=on, party__isnull=False)
        .select_related("account", "account__property", "party")
        .order_by("id")
    ):
        assert action.party is not None
        at = now()
        decision = _guard(addressee(action.account, action.party, at), "sms", at)
        if not decision.allowed:
            if decision.rule == "hours":
                run.deferred.append(action.key)
                continue
            with transaction.atomic():
                Action.objects.filter(pk=action.pk).update(
                    status="refused", rule=decision.rule, reason=decision.reason[:300]
                )
                TimelineEvent.objects.create(
                    account=action.account,
                    at=at,
                    on=on,
                    kind="sms.refused",
                    actor=actor,
                    summary=f"text to {action.party.party_id} not sent: {decision.reason}"[:500],
                    detail={"key": action.key, "rule": decision.rule},
                )
            run.refused.append(action.key)
            continue
        try:
            sms_send(
                provider=provider,
                key=action.key,
                account=action.account,
                party=action.party,
                body=text_body(action),
                language=action.language,
                actor=actor,
            )
        except (SmsError, ValidationError):
            run.failed.append(action.key)
            continue
        Action.objects.filter(pk=action.pk).update(status="closed", reason="text sent")
        run.sent.append(action.key)
    return run


def opt_outs_record(report: FetchReport, *, actor: str = "mail") -> int:
    """Withdraw consent to email for each party who replied STOP in this fetch; returns how many.
    12 CFR §1006.6(e): the opt-out the email offered is honored from then on."""
    done = 0
    rows = InboundEmail.objects.filter(pk__in=report.filed, category="opt_out", party__isnull=False)
    for row in rows.select_related("party", "account"):
        assert row.party is not None
        assert row.account is not None
        with transaction.atomic():
            Consent.objects.create(
                party=row.party,
                channel="email",
                granted=False,
                at=row.received_at,
                source=f"STOP reply {row.message_id}"[:200],
            )
            TimelineEvent.objects.create(
                account=row.account,
                at=row.received_at,
                on=row.received_at.astimezone(book_zone()).date(),
                kind="consent.withdrawn",
                actor=actor,
                summary=f"{row.party.party_id} opted out of email (replied STOP)",
                detail={
                    "party_id": row.party.party_id,
                    "channel": "email",
                    "inbound": row.pk,
                    "law": "12 CFR §1006.6(e)",
                },
            )
        done += 1
    return done


def mail_work_lines() -> list[tuple[int, str, str, str | None, int | None]]:
    """Worklist lines for mail that needs an answer: one per account, naming the oldest."""
    lines: dict[int, tuple[int, str, str, str | None, int | None]] = {}
    counts: dict[int, int] = {}
    for row in (
        InboundEmail.objects.filter(status="filed", needs_answer=True, answered_at__isnull=True)
        .select_related("party")
        .order_by("received_at", "id")
    ):
        assert row.account_id is not None
        counts[row.account_id] = counts.get(row.account_id, 0) + 1
        if row.account_id not in lines:
            lines[row.account_id] = (
                row.account_id,
                "email",
                _(
                    "answer {category} by email from {sender} (message {message}, {day}): {subject}"
                ).format(
                    category=_(row.category.replace("_", " ")),
                    sender=row.from_address,
                    message=row.pk,
                    day=f"{row.received_at:%Y-%m-%d}",
                    subject=row.subject,
                )[:300],
                row.party.party_id if row.party else None,
                None,
            )
    out = []
    for pk, (a, kind, reason, party, action) in lines.items():
        more = counts[pk] - 1
        tail = _(" (+{more} more)").format(more=more) if more else ""
        out.append((a, kind, reason + tail, party, action))
    return out


def local_time(text: str, zone: str) -> datetime:
    """A time typed by a coordinator (`2026-03-07T20:59`), in the party's zone unless it says."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            _("not a time (YYYY-MM-DDTHH:MM): {text!r}"), code="time_malformed", text=text
        ) from None
    if not in_calendar(value.date()):
        raise ValidationError(
            _("{text} is outside the book's calendar ({earliest} to {latest})"),
            code="time_outside_calendar",
            text=text,
            earliest=EARLIEST,
            latest=LATEST,
        )
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(zone))


def party_zone(*, account_id: str, party_id: str) -> str:
    account = _account(account_id)
    party = _party(party_id)
    return _party_zone(account, party)
