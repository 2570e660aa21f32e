"""The papers a coordinator's act sends, outside the daily ladder, through the compliance guard:

- `plan_agreement_email`: a payment plan's agreement sent for acceptance by email (the plans
  part renders and records it; this sends it through correspondence's mail path);
- `dispute_resolve`: a dispute resolved (the disputes part posts the credits) and its answer
  queued: a letter (`dispute-upheld`, `dispute-partial`, `dispute-rejected`, the last with the
  account analysis enclosed) for `arrears letters batch` to print, or, when the party has no
  postal address we may write to, an email for `arrears mail send`.

The guard lives here, in dunning, above plans, disputes and correspondence: the CLI (and any
other interface) resolves a dispute through this module, so the answer is guarded the moment it
is queued. The holds a commitment gives do not stop its own papers (`contact.NOT_HELD_BY`): a
plan in good standing does not stop its agreement, an open dispute does not stop its answer;
every other hold does (a request to cease, an attorney, a death, a bankruptcy…).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import transaction
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from arrears.core.errors import NotFoundError, ValidationError
from arrears.correspondence.archive import archive_store, sha256_of
from arrears.correspondence.catalog import CODE_LABELS, language_for
from arrears.correspondence.mail_out import (
    CONSUMER_KINDS,
    Attachment,
    OutgoingEmail,
    Sender,
    SmtpSettings,
    email_prepare,
    outbox_send,
    smtp_from_env,
)
from arrears.correspondence.models import Outbound
from arrears.correspondence.services import outbound_queue
from arrears.disputes.models import Dispute
from arrears.disputes.services import dispute_resolve as dispute_settle
from arrears.dunning.addressee import _guard, addressee, answer_addressee
from arrears.dunning.emails import email_check
from arrears.dunning.guard import Decision
from arrears.ledger.models import Account, AccountParty, Party, TimelineEvent
from arrears.plans.models import Plan
from arrears.plans.services import plan_send_for_acceptance


def _primary(account: Account) -> Party | None:
    link = (
        AccountParty.objects.filter(account=account, role="primary")
        .select_related("party")
        .order_by("id")
        .first()
    )
    return link.party if link else None


def _agreement_key(account: Account, plan_id: int, party: Party) -> str:
    """The email's idempotency key: one per plan and addressee. A try the guard refused or the
    server failed for good is kept as it was; a later asking is a new email (`#2`, `#3`…)."""
    base = f"{account.account_id}:plan-agreement:{plan_id}:{party.party_id}"
    tried = list(Outbound.objects.filter(key__startswith=base).values_list("key", "status"))
    for key, status in tried:
        if status in ("queued", "rendered", "sent", "bounced"):
            return key  # in flight (or sent): never a second email for it
    return base if not tried else f"{base}#{len(tried) + 1}"


def plan_agreement_email(
    *,
    plan_id: int,
    on: date,
    actor: str,
    language: str | None = None,
    now: Callable[[], datetime] = dj_timezone.now,
) -> dict[str, Any]:
    """Email a plan's agreement (PDF attached) to its party for acceptance, through the guard,
    once, and record it on the plan (`plans.services.plan_send_for_acceptance`).

    The email is an `Outbound` row keyed by the plan (a stable Message-ID), archived with its
    attachment, and sent at once; outside the contact hours it waits for `arrears mail send`.
    Returns {"status": "sent" | "queued", "message_id", "document", "to"}. Raises
    ValidationError without EMAIL_URL, when the guard refuses it (with the rule), or when the
    server fails; the plans part refuses a plan already sent.
    """
    settings = smtp_from_env()
    sender = Sender.from_env()
    plan = Plan.objects.select_related("account", "party").filter(pk=plan_id).first()
    if plan is None:
        raise NotFoundError(_("no plan {plan_id}"), code="plan_not_found", plan_id=plan_id)
    result: dict[str, Any] = {}

    def send(to: str, subject: str, body: str, pdf: bytes, filename: str) -> dict[str, Any]:
        assert plan is not None
        message = _AgreementEmail(to, subject, body, pdf, filename, language)
        result.update(_agreement_send(plan, message, on, actor, now, settings, sender))
        return dict(result)

    plan_send_for_acceptance(plan_id=plan_id, send=send, on=on, actor=actor, language=language)
    return result


class _AgreementEmail(NamedTuple):
    to: str
    subject: str
    body: str
    pdf: bytes
    filename: str
    language: str | None


def _agreement_send(
    plan: Plan,
    message: _AgreementEmail,
    on: date,
    actor: str,
    now: Callable[[], datetime],
    settings: SmtpSettings,
    sender: Sender,
) -> dict[str, Any]:
    """Make (once), prepare and send a plan's agreement email; what became of it."""
    account = plan.account
    party = plan.party or _primary(account)
    assert party is not None
    to, language = message.to, message.language
    key = _agreement_key(account, plan.pk, party)
    with transaction.atomic():
        row = Outbound.objects.filter(key=key).first() or _agreement_row(
            key, plan, party, to, language or language_for(party.language), on, now()
        )
        email_prepare(
            outbound=row,
            sender=sender.address,
            domain=sender.domain,
            sender_name=sender.name,
            email=OutgoingEmail(
                to=to,
                to_name=party.name,
                subject=message.subject,
                text=message.body,
                attachments=[Attachment(message.filename, message.pdf, "application/pdf")],
                language=language or language_for(party.language),
                opt_out_notice=account.kind in CONSUMER_KINDS,
            ),
        )
    report = outbox_send(settings=settings, check=email_check(now), keys=[key], actor=actor)
    row.refresh_from_db()
    sent = {"to": to, "message_id": row.message_id, "document": row.document_name}
    if row.status == "sent":
        return {**sent, "status": "sent"}
    if row.status == "rendered" and report.deferred:
        return {**sent, "status": "queued"}
    raise ValidationError(
        _("plan {plan_id}'s agreement not emailed to {to}: {error}"),
        code="plan_agreement_not_emailed",
        plan_id=plan.pk,
        to=to,
        error=row.error or report.error or row.status,
    )


@dataclass(frozen=True)
class DisputeAnswered:
    dispute: Dispute
    outbound: Outbound | None  # the answer queued (None: the guard refused it)
    rule: str = ""  # why not, when refused
    reason: str = ""
    enclosure: str = ""  # the archived analysis enclosed with a rejection

    def line(self) -> str:
        d = self.dispute
        head = f"Dispute {d.pk} resolved: {d.outcome}; credit {d.credited:,.2f}"
        if self.outbound is None:
            return f"{head}; the answer was NOT queued: {self.rule} ({self.reason})."
        how = "email" if self.outbound.channel == "email" else "letter"
        tail = f", with the account analysis {self.enclosure}" if self.enclosure else ""
        return (
            f"{head}; {self.outbound.template} queued by {how} "
            f"(L{self.outbound.pk}): {self.outbound.document_name}{tail}."
        )

    def as_json(self) -> dict[str, Any]:
        d = self.dispute
        o = self.outbound
        return {
            "dispute_id": d.pk,
            "outcome": d.outcome,
            "credited": f"{d.credited:.2f}",
            "letter": d.letter,
            "channel": o.channel if o else None,
            "letter_id": o.pk if o else None,
            "document": o.document_name if o else None,
            "enclosures": [self.enclosure] if self.enclosure else [],
            "rule": self.rule or None,
        }


def _analysis_document(dispute: Dispute, on: date) -> str:
    """The account analysis to `on`, as PDF, archived; returns its archive name."""
    from arrears.disputes.documents import analysis_pdf
    from arrears.disputes.selectors import account_analysis
    from arrears.dunning.selectors import analysis_rules

    account_id = dispute.account.account_id
    analysis = account_analysis(
        account_id=account_id,
        start=None,
        end=on,
        rules=analysis_rules(account_id=account_id, on=on),
    )
    data = analysis_pdf(analysis)
    name = f"analyses/{on:%Y/%m/%d}/{account_id}-dispute-{dispute.pk}-{sha256_of(data)[:10]}.pdf"
    return archive_store(data=data, name=name, kind="analysis", content_type="application/pdf").name


def _fields(dispute: Dispute, language: str) -> dict[str, Any]:
    labels = CODE_LABELS.get(language, CODE_LABELS["en"])
    charges = [
        {
            "txn_id": line.charge.txn_id,
            "label": labels.get(line.charge.code, line.charge.code),
            "amount": f"{line.amount:.2f}",
            "credited": f"{line.credited:.2f}",
        }
        for line in dispute.charges.select_related("charge").order_by("charge__due_on", "pk")
    ]
    return {
        "dispute": {
            "dispute_id": dispute.pk,
            "outcome": dispute.outcome,
            "reason": dispute.reason,
            "opened_on": dispute.opened_on.isoformat(),
            "amount": f"{dispute.amount:.2f}",
            "credited": f"{dispute.credited:.2f}",
            "note": dispute.note,
            "remaining": f"{dispute.amount - dispute.credited:.2f}",
            "charges": charges,
        }
    }


@transaction.atomic
def dispute_resolve(
    *,
    dispute_id: int,
    outcome: str,
    on: date,
    actor: str,
    amount: Decimal | None = None,
    note: str = "",
    now: Callable[[], datetime] = dj_timezone.now,
) -> DisputeAnswered:
    """Resolve a dispute (`disputes.services.dispute_resolve`: the credits) and queue its answer
    to the party who disputed (else the primary), in one transaction.

    The one service of the act: the CLI, the account page and the API all resolve a dispute
    here, so each queues the same answer. The answer is a letter; when the guard refuses the
    letter for want of a usable postal address (none, or mail came back) and the party may be
    emailed, an email instead. A
    rejection encloses (attaches) the account analysis to `on`, archived. When the guard refuses
    (a request to cease, an attorney, …) the resolution stands, nothing is queued, and the
    refusal is on the timeline (`letter.refused`, with the rule).
    """
    dispute = dispute_settle(
        dispute_id=dispute_id, outcome=outcome, on=on, actor=actor, amount=amount, note=note
    )
    account = Account.objects.select_related("property").get(pk=dispute.account_id)
    party = dispute.party or _primary(account)
    if party is None:
        return DisputeAnswered(dispute, None, "channel:no addressee", "the account has no party")
    role = (
        AccountParty.objects.filter(account=account, party=party)
        .values_list("role", flat=True)
        .first()
        or "primary"
    )
    at = now()
    channel, decision = _answer_channel(account, party, role, at)
    template = dispute.letter  # the outcome's letter, named by the disputes part (LETTERS)
    if not decision.allowed:
        _answer_refused(dispute, account, party, decision, at, on, actor)
        return DisputeAnswered(dispute, None, decision.rule, decision.reason)
    language = language_for(party.language)
    enclosure = _analysis_document(dispute, on) if dispute.outcome == "rejected" else ""
    outbound = outbound_queue(
        key=f"{account.account_id}:dispute-answer:{dispute.pk}:{party.party_id}",
        account=account,
        party=party,
        role=role,
        channel=channel,
        template=template,
        language=language,
        step="dispute-answer",
        run_on=on,
        actor=actor,
        amount=dispute.credited if dispute.outcome != "rejected" else dispute.amount,
        fields=_fields(dispute, language),
        enclosures=[enclosure] if enclosure else [],
        summary=f"answer to dispute {dispute.pk} ({dispute.outcome}) queued by {channel} for "
        f"{party.name}" + (f", with the account analysis {enclosure}" if enclosure else ""),
    )
    return DisputeAnswered(dispute, outbound, enclosure=enclosure)


def _answer_channel(
    account: Account, party: Party, role: str, at: datetime
) -> tuple[str, Decision]:
    """A dispute's answer goes by letter; by email when the guard refuses the letter for want
    of a usable postal address and the party may be emailed."""
    who = answer_addressee(addressee(account, party, at, role=role, calls=False), "dispute-answer")
    decision = _guard(who, "letter", at)
    if not decision.allowed and decision.rule.startswith("channel:"):
        by_email = _guard(who, "email", at)
        # Letters are not timed; an email refused only for the hour waits for `mail send`.
        if by_email.allowed or by_email.rule == "hours":
            return "email", Decision.allow()
    return "letter", decision


def _answer_refused(
    dispute: Dispute,
    account: Account,
    party: Party,
    decision: Decision,
    at: datetime,
    on: date,
    actor: str,
) -> None:
    """The answer the guard refused, on the timeline (`letter.refused`, with the rule)."""
    template = dispute.letter
    TimelineEvent.objects.create(
        account=account,
        at=at,
        on=on,
        kind="letter.refused",
        actor=actor,
        summary=f"{template} not sent to {party.party_id}: {decision.reason or decision.rule}"[
            :500
        ],
        detail={
            "dispute": dispute.pk,
            "template": template,
            "rule": decision.rule,
            "party_id": party.party_id,
        },
    )


def _agreement_row(
    key: str, plan: Plan, party: Party, to: str, language: str, on: date, at: datetime
) -> Outbound:
    return Outbound.objects.create(
        key=key,
        account=plan.account,
        party=party,
        role="primary",
        channel="email",
        template="plan-agreement",
        step="plan-agreement",
        run_on=on,
        status="queued",
        language=language,
        document_name="",
        recipient=to,
        created_at=at,
        detail={"plan": plan.pk},
    )
