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

import dataclasses
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone as dj_timezone

from arrears.core.dates import EARLIEST, LATEST, in_calendar, today
from arrears.core.errors import DomainError, NotFoundError, ValidationError
from arrears.correspondence.mail_in import FetchReport
from arrears.correspondence.mail_models import InboundEmail
from arrears.correspondence.mail_out import (
    CONSUMER_KINDS,
    Attachment,
    OutgoingEmail,
    RetrySchedule,
    Sender,
    SendReport,
    SmtpSettings,
    Verdict,
    email_fail,
    email_prepare,
    outbound_emails_render,
    outbox_send,
    smtp_from_env,
)
from arrears.correspondence.models import Outbound
from arrears.correspondence.selectors import party_address_key, returned_addresses
from arrears.correspondence.sms import SmsError, SmsProvider, sms_send
from arrears.dunning.derived import DerivedHolds, derived_holds
from arrears.dunning.guard import (
    ActiveHold,
    CallHistory,
    ContactPoint,
    Decision,
    GuardRules,
    contact_point,
    guard_check,
)
from arrears.dunning.models import Action, Consent, ContactAttempt, Hold
from arrears.dunning.policy import Policy, choose_policy, jurisdiction_of
from arrears.dunning.services import company_policies, guard_rules
from arrears.dunning.zones import contact_zone
from arrears.ledger.models import Account, AccountParty, Party, TimelineEvent

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
class Addressee:
    account: Account
    party: Party
    role: str
    zone: str
    contact: ContactPoint
    holds: list[ActiveHold]
    calls: CallHistory
    rules: GuardRules
    # Holds the account's commitments give (a plan in good standing, a promise pending, a
    # dispute of the whole balance): a contact by hand passes the same rules as the run's.
    derived: tuple[tuple[str, str], ...] = ()


def addressee(
    account: Account,
    party: Party,
    at: datetime,
    policies: dict[str, Policy] | None = None,
    role: str | None = None,
    calls: bool = True,
    derived: DerivedHolds | None = None,
) -> Addressee:
    """What the guard needs to know of one party of one account, at `at`. A caller that knows
    them already passes the policies in force and the party's `role`; `calls=False` skips the
    call history (an email or a letter is not a call)."""
    if role is None:
        link = AccountParty.objects.filter(account=account, party=party).first()
        if link is None:
            raise NotFoundError(
                f"{party.party_id!r} is not a party of account {account.account_id!r}"
            )
        role = link.role
    zone = _party_zone(account, party)
    on = at.astimezone(ZoneInfo(zone)).date()
    contact = contact_point(
        party_id=party.party_id,
        role=role,
        timezone=zone,
        email=party.email,
        address=party.address,
        phone=party.phone,
        unit_address=account.property.address if account.property else None,
        consents=Consent.objects.filter(party=party)
        .order_by("at", "id")
        .values_list("channel", "granted"),
        # Letters to an address that mail came back from are refused, as the run refuses them.
        address_returned=party_address_key(party, account, role)
        in returned_addresses([party.pk]).get(party.pk, ()),
    )
    holds = [
        ActiveHold(h.reason, h.party.party_id if h.party else None, h.until)
        for h in Hold.objects.filter(
            account=account, released_at__isnull=True, placed_on__lte=on
        ).select_related("party")
    ]
    history = ContactAttempt.objects.filter(
        account=account, party=party, channel="call", at__gte=at - timedelta(days=8), at__lte=at
    ).values_list("at", "conversation")
    moved_out = bool(account.closed_on and account.closed_on <= on)
    policy = choose_policy(
        policies or company_policies(),
        jurisdiction=_jurisdiction(account),
        account_kind=account.kind,
        moved_out=moved_out,
    )
    rules = guard_rules(policy) if policy else GuardRules()
    if derived is None:
        derived = derived_holds([account.pk], on)
    return Addressee(
        account,
        party,
        role,
        zone,
        contact,
        holds,
        CallHistory.of(history if calls else ()),
        rules,
        _account_commitments(derived, account.pk),
    )


def _account_commitments(derived: DerivedHolds, account_pk: int) -> tuple[tuple[str, str], ...]:
    """The holds an account's commitments give any contact with it: a plan in good standing or
    a promise pending (rules `plan`, `promise`), a dispute of the whole balance (`dispute`,
    15 USC §1692g(b)). A dispute of some charges only stops what is about them: the run's
    steps, not a call or an email about the rest."""
    out = []
    commitment = derived.commitments.get(account_pk)
    if commitment is not None:
        out.append((commitment.rule, commitment.reason))
    if derived.disputed(account_pk)[0]:
        out.append(("dispute", "the whole balance is disputed"))
    return tuple(out)


def _guard(who: Addressee, channel: str, at: datetime) -> Decision:
    return guard_check(
        action="notice",
        channel=channel,
        at=at,
        holds=who.holds,
        contact=who.contact,
        calls=who.calls,
        rules=who.rules,
        derived=who.derived,
    )


def _account(account_id: str) -> Account:
    account = Account.objects.select_related("property").filter(account_id=account_id).first()
    if account is None:
        raise NotFoundError(f"no account {account_id!r}", account_id=account_id)
    return account


def _party(party_id: str) -> Party:
    party = Party.objects.filter(party_id=party_id).first()
    if party is None:
        raise NotFoundError(f"no party {party_id!r}", party_id=party_id)
    return party


Render = Callable[[Outbound], OutgoingEmail]


@dataclass
class EmailRun:
    queued: int = 0  # outbound rows made for email actions
    prepared: int = 0
    cancelled: list[str] = field(default_factory=list)  # keys no longer due when they were to go
    report: SendReport = field(default_factory=SendReport)
    documents: dict[str, str] = field(default_factory=dict)  # action key → archived message

    def as_json(self) -> dict[str, Any]:
        return {
            "queued": self.queued,
            "prepared": self.prepared,
            **self.report.as_json(),
            "cancelled": self.cancelled,
            "documents": self.documents,
        }

    def line(self) -> str:
        r = self.report
        return (
            f"Emails: {len(r.sent)} sent, {len(r.bounced)} bounced, {len(r.retry)} to retry, "
            f"{len(r.failed)} failed, {len(r.deferred)} waiting for contact hours, "
            f"{len(r.refused)} refused by the guard, {len(r.waiting)} waiting for their "
            "next try."
            + (f" {len(self.cancelled)} cancelled as no longer due." if self.cancelled else "")
        )


def email_outbound_ensure(*, on: date) -> int:
    """An outbound row for every queued email action up to `on` that has none (the run may have
    made it already); returns how many were made."""
    actions = list(
        Action.objects.filter(status="queued", channel="email", run_on__lte=on).select_related(
            "account", "party"
        )
    )
    have = set(
        Outbound.objects.filter(key__in=[a.key for a in actions]).values_list("key", flat=True)
    )
    made = 0
    for a in actions:
        if a.key in have:
            continue
        Outbound.objects.create(
            key=a.key,
            account=a.account,
            party=a.party,
            role=a.role,
            channel="email",
            template=a.template,
            language=a.language or "en",
            policy=a.policy,
            step=a.step,
            run_on=a.run_on,
            amount=a.amount,
            deadline=a.deadline,
            delinquency=a.delinquency,
            status="queued",
            document_name="",
            created_at=a.created_at,
        )
        made += 1
    return made


# Emails that are not collection steps but a commitment's own paper: the plan agreement sent for
# acceptance, the answer to a resolved dispute. The holds a commitment gives (a plan, a promise,
# and for the answer the dispute itself) do not stop them; every other hold does (cease,
# represented, deceased, bankruptcy…), and so do the channel and the hours.
NOT_HELD_BY = {
    "plan-agreement": ("plan", "promise"),
    "dispute-answer": ("plan", "promise", "dispute"),
}


def answer_addressee(who: Addressee, step: str) -> Addressee:
    """`who` without the holds that do not stop `step` (NOT_HELD_BY); unchanged for any other."""
    skip = NOT_HELD_BY.get(step, ())
    if not skip:
        return who
    return dataclasses.replace(
        who,
        holds=[h for h in who.holds if h.party_id is not None or h.reason not in skip],
        derived=tuple(d for d in who.derived if d[0] not in skip),
    )


def email_check(
    now: Callable[[], datetime], derived: DerivedHolds | None = None
) -> Callable[[Outbound], Verdict]:
    """The guard, asked for each email at the minute it is to go: outside the contact hours it
    waits for a later pass; any other refusal is final. An address that bounced is not written
    to again. A plan agreement or a dispute's answer is not stopped by its own commitment's
    holds (NOT_HELD_BY)."""

    policies = company_policies()

    def check(row: Outbound) -> Verdict:
        if row.party is None:
            return Verdict("refuse", "channel:no addressee", "the email names no party")
        bounced = Outbound.objects.filter(
            channel="email", party=row.party, status="bounced", recipient__iexact=row.recipient
        ).exists()
        if bounced:
            return Verdict("refuse", "channel:bounced", f"{row.recipient} bounced before")
        at = now()
        who = addressee(
            row.account,
            row.party,
            at,
            policies,
            role=row.role or "primary",
            calls=False,
            derived=derived,
        )
        decision = _guard(answer_addressee(who, row.step), "email", at)
        if decision.allowed:
            return Verdict("send")
        return Verdict(
            "defer" if decision.rule == "hours" else "refuse", decision.rule, decision.reason
        )

    return check


def emails_send(
    *,
    on: date,
    settings: SmtpSettings,
    sender: Sender,
    render: Render | None = None,
    now: Callable[[], datetime] = dj_timezone.now,
    actor: str = "mail",
    schedule: RetrySchedule | None = None,
    workers: int = 1,
) -> EmailRun:
    """Send the email actions due by `on`: make their outbound rows, prepare their messages,
    send through the guard, and bring the actions up to date (module docstring). `workers`
    processes render the PDF letters attached (1: in this process).

    Each email is checked again first (`reissue.emails_recheck`): one no longer due is cancelled,
    the others are dated `on` with their figures of that day, and one prepared in an earlier
    pass whose figures changed is prepared again."""
    from arrears.dunning.reissue import emails_recheck  # it reads the guard from this module

    run = EmailRun()
    run.queued = email_outbound_ensure(on=on)
    run.cancelled = emails_recheck(on=on, actor=actor)
    unrendered: list[str] = []
    queued = list(
        Outbound.objects.filter(channel="email", status="queued", run_on__lte=on)
        .select_related("account", "party")
        .order_by("id")
    )
    rendered = (
        outbound_emails_render(queued, workers=workers)
        if render is None
        else ((row, _try_render(render, row)) for row in queued)
    )
    for row, email in rendered:
        try:
            if isinstance(email, str):
                raise ValidationError(email)
            email_prepare(
                outbound=row,
                email=email,
                sender=sender.address,
                domain=sender.domain,
                sender_name=sender.name,
            )
        except DomainError as exc:
            # One email that cannot be made (no address any more, a template gone) fails alone.
            email_fail(row, f"not rendered: {exc.message}", actor)
            unrendered.append(row.key)
            continue
        run.prepared += 1
    # The commitments of every account written to, in one look (not a few queries per email).
    derived = derived_holds(sorted({row.account_id for row in queued}), on)
    run.report = outbox_send(
        settings=settings, check=email_check(now, derived), actor=actor, schedule=schedule, now=now
    )
    run.report.failed[:0] = unrendered
    run.documents = email_actions_settle(on=on, now=now, actor=actor)
    return run


def _try_render(render: Render, row: Outbound) -> OutgoingEmail | str:
    try:
        return render(row)
    except DomainError as exc:
        return exc.message


def email_actions_settle(
    *, on: date | None = None, now: Callable[[], datetime] = dj_timezone.now, actor: str = "mail"
) -> dict[str, str]:
    """Bring email actions in step with their outbound rows; returns key → document of the
    actions done now. An email given up or bounced fails its action (a bounce reported after
    the action was done too) and falls back to a letter where its step says so
    (`undelivered.emails_undelivered_settle`, as of `on` and `now`)."""
    from arrears.dunning.undelivered import emails_undelivered_settle

    settled: dict[str, str] = {}
    queued = dict(Action.objects.filter(status="queued", channel="email").values_list("key", "pk"))
    for key, status, name, error, detail in Outbound.objects.filter(
        key__in=list(queued), status__in=["sent", "failed"]
    ).values_list("key", "status", "document_name", "error", "detail"):
        if status == "sent":
            Action.objects.filter(pk=queued[key]).update(status="done", document=name)
            settled[key] = name
        elif (detail or {}).get("rule"):
            Action.objects.filter(pk=queued[key]).update(
                status="refused", rule=detail["rule"], reason=error[:300]
            )
    emails_undelivered_settle(on=on or today(), at=now(), actor=actor)
    return settled


def statement_email(*, account_id: str, as_of: date, pdf: bytes, filename: str, actor: str) -> str:
    """Email a statement of account (PDF) to the account's primary party, through the guard,
    once: the same statement asked for again is the same email, not a second one. Returns what
    it did; ValidationError if the guard refuses or the server fails."""
    account = _account(account_id)
    link = (
        AccountParty.objects.filter(account=account, role="primary")
        .select_related("party")
        .order_by("id")
        .first()
    )
    if link is None or not link.party.email:
        raise ValidationError(f"{account_id} has no primary party with an email address")
    party = link.party
    digest = hashlib.sha256(pdf).hexdigest()
    key = f"{account_id}:statement:{as_of.isoformat()}:{party.party_id}:{digest[:16]}"
    row = Outbound.objects.filter(key=key).first()
    if row is None:
        row = Outbound.objects.create(
            key=key,
            account=account,
            party=party,
            role="primary",
            channel="email",
            template="statement",
            language=party.language or "en",
            step="statement",
            run_on=today(),
            status="queued",
            document_name="",
            created_at=dj_timezone.now(),
            recipient=party.email,
        )
    if row.status in ("sent", "bounced"):
        return f"Statement already emailed to {row.recipient} ({row.message_id}): not sent again."
    sender = Sender.from_env()
    settings = smtp_from_env()
    es = party.language == "es"
    email_prepare(
        outbound=row,
        sender=sender.address,
        domain=sender.domain,
        sender_name=sender.name,
        email=OutgoingEmail(
            to=party.email,
            to_name=party.name,
            language="es" if es else "en",
            subject=(
                f"Estado de cuenta {account_id} al {as_of.isoformat()}"
                if es
                else f"Statement of account {account_id} as of {as_of.isoformat()}"
            ),
            text=(
                f"Estimado/a {party.name}:\n\nAdjuntamos el estado de su cuenta {account_id}."
                if es
                else f"Dear {party.name},\n\nYour statement of account {account_id} is attached."
            ),
            attachments=[Attachment(filename, pdf, "application/pdf")],
            opt_out_notice=account.kind in CONSUMER_KINDS,
        ),
    )
    report = outbox_send(
        settings=settings, check=email_check(dj_timezone.now), keys=[key], actor=actor
    )
    row.refresh_from_db()
    if report.sent:
        return f"Statement emailed to {row.recipient} (Message-ID {row.message_id})."
    if report.deferred:
        return (
            f"Statement queued for {row.recipient}: outside the contact hours, `arrears mail "
            "send` sends it when they open."
        )
    raise ValidationError(
        f"statement not emailed to {row.recipient}: {row.error or report.error or row.status}"
    )


@dataclass(frozen=True)
class CallLogged:
    decision: Decision
    event: TimelineEvent
    at: datetime
    zone: str


def call_check(*, account_id: str, party_id: str, at: datetime) -> Decision:
    """May this party be called about this account at `at`? (Asked before dialling.)"""
    account = _account(account_id)
    return _guard(addressee(account, _party(party_id), at), "call", at)


@transaction.atomic
def call_log(
    *, account_id: str, party_id: str, outcome: str, at: datetime, actor: str, note: str = ""
) -> CallLogged:
    """Record a call placed at `at` and its outcome, asking the guard as of that minute.

    A call the guard refuses is recorded as refused, with its rule, and counts as no attempt;
    the caller reports the refusal. Otherwise the attempt counts for the call caps, a
    conversation starts the quiet period, and the party's open call tasks are closed.
    """
    if outcome not in CALL_OUTCOMES:
        raise ValidationError(
            f"a call's outcome is one of {', '.join(CALL_OUTCOMES)}, not {outcome!r}"
        )
    if at.tzinfo is None:
        raise ValidationError("the call's time needs its time zone")
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
    if not decision.allowed:
        event = TimelineEvent.objects.create(
            account=account,
            at=at,
            on=on,
            kind="call.refused",
            actor=actor,
            summary=f"call to {party_id} at {local:%H:%M} refused ({decision.rule}): "
            f"{decision.reason}"[:500],
            detail={**base, "rule": decision.rule, "reason": decision.reason},
        )
        return CallLogged(decision, event, at, who.zone)
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
    event = TimelineEvent.objects.create(
        account=account,
        at=at,
        on=on,
        kind="call.logged",
        actor=actor,
        summary=f"call to {party_id}: {outcome.replace('-', ' ')}" + (f" — {note}" if note else ""),
        detail={**base, "conversation": talked, "tasks_closed": closed},
    )
    return CallLogged(decision, event, at, who.zone)


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
                on=row.received_at.date(),
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
                f"answer {row.category.replace('_', ' ')} by email from {row.from_address} "
                f"(message {row.pk}, {row.received_at:%Y-%m-%d}): {row.subject}"[:300],
                row.party.party_id if row.party else None,
                None,
            )
    out = []
    for pk, (a, kind, reason, party, action) in lines.items():
        more = counts[pk] - 1
        out.append((a, kind, reason + (f" (+{more} more)" if more else ""), party, action))
    return out


def _party_zone(account: Account, party: Party) -> str:
    prop = account.property
    return contact_zone(
        party.timezone, party.state, prop.timezone if prop else None, prop.state if prop else None
    )


def _jurisdiction(account: Account) -> str:
    prop = account.property
    return jurisdiction_of(prop.country, prop.state) if prop else ""


def local_time(text: str, zone: str) -> datetime:
    """A time typed by a coordinator (`2026-03-07T20:59`), in the party's zone unless it says."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"not a time (YYYY-MM-DDTHH:MM): {text!r}") from None
    if not in_calendar(value.date()):
        raise ValidationError(f"{text} is outside the book's calendar ({EARLIEST} to {LATEST})")
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(zone))


def party_zone(*, account_id: str, party_id: str) -> str:
    account = _account(account_id)
    party = _party(party_id)
    return _party_zone(account, party)
