"""The acts on the book: one function each, which the command line, the pages and the API call.

Each act authorizes its actor, runs the one domain service that does it and writes its audit
row through `services.act` (or `services.act_job`, for what commits as it goes: an email sent
at once, the daily run). The audit row's `detail` is made here, from the act's typed arguments,
so the three interfaces write the same rows apart from who did it (`actor`) and through which
interface (`via`: "web", "api", "cli" or "system"). The interfaces parse what they are given
(a form, a JSON body, the arguments), call one act, and render what it returns.

`arrears/web/tests/test_parity.py` runs each act through the three and compares the rows.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from arrears.access import services
from arrears.access.acting import By, money_text, run_act, run_job
from arrears.access.acts_assignments import assign as assign
from arrears.access.acts_assignments import coverage_add as coverage_add
from arrears.access.acts_assignments import coverage_end as coverage_end
from arrears.access.acts_assignments import unassign as unassign

# The call and the promise (with the questions a promise is asked): a module of their own.
from arrears.access.acts_desk import PromiseTaken as PromiseTaken
from arrears.access.acts_desk import call_log as call_log
from arrears.access.acts_desk import promise_record as promise_record
from arrears.access.acts_worklist import worklist_dismiss as worklist_dismiss
from arrears.access.acts_worklist import worklist_snooze as worklist_snooze
from arrears.access.selectors import authorize
from arrears.core.broker import broker_url
from arrears.core.dates import today
from arrears.core.errors import NotFoundError, ValidationError
from arrears.core.money import ZERO
from arrears.correspondence import services as correspondence
from arrears.correspondence.mail_out import Sender, smtp_from_env
from arrears.correspondence.models import ReturnedMail
from arrears.correspondence.services import MailedResult
from arrears.correspondence.statements import Statement, statement_pdf
from arrears.disputes import services as disputes
from arrears.disputes.models import Dispute
from arrears.disputes.selectors import dispute_get
from arrears.dunning import casefile, commitments, contact, documents, notices
from arrears.dunning import services as dunning
from arrears.dunning.consent import consents_from_import
from arrears.dunning.documents import DisputeAnswered
from arrears.dunning.models import Hold
from arrears.dunning.notices import NoticeQueued
from arrears.dunning.services import RunResult
from arrears.ledger import services as ledger
from arrears.ledger.models import TimelineEvent
from arrears.ledger.services import ImportSummary
from arrears.legal.models import Referral
from arrears.plans import services as plans
from arrears.plans.models import Plan
from arrears.plans.selectors import plan_get

NOTE_LIMIT = 500  # a note on a hold, a call, a referral
REASON_LIMIT = 2000  # a dispute's reason, a resolution's note
DETAIL_LIMIT = 300  # a reason or a note as the audit row keeps it


def note_add(*, by: By, account_id: str, text: str) -> TimelineEvent:
    """A note on the account's timeline (`dunning.services.note_add`)."""
    return run_act(
        by,
        "note.add",
        account_id=account_id,
        detail={"text": text[:NOTE_LIMIT]},
        do=lambda _a: dunning.note_add(account_id=account_id, text=text, actor=by.name, on=today()),
    )


def hold_place(
    *,
    by: By,
    account_id: str,
    reason: str,
    until: date | None = None,
    party_id: str | None = None,
    note: str = "",
    on: date | None = None,
) -> Hold:
    """A hold on the account, or on one of its parties (`dunning.services.hold_place`); it
    starts `on` (today by default, and then the audit row does not say it)."""
    note = note[:NOTE_LIMIT]
    detail = {
        "reason": reason,
        "until": until.isoformat() if until else "",
        "note": note,
        "party_id": party_id or None,
        **({"on": on.isoformat()} if on else {}),
    }
    return run_act(
        by,
        "hold.place",
        account_id=account_id,
        detail=detail,
        do=lambda _a: dunning.hold_place(
            account_id=account_id,
            reason=reason,
            on=on or today(),
            actor=by.name,
            until=until,
            party_id=party_id or None,
            note=note,
        ),
    )


def hold_release(*, by: By, account_id: str, hold_id: int) -> Hold:
    """Release a hold of the account (`dunning.services.hold_release`); it stays on record."""
    return run_act(
        by,
        "hold.release",
        account_id=account_id,
        detail={"hold": hold_id},
        do=lambda _a: dunning.hold_release(
            account_id=account_id, hold_id=hold_id, actor=by.name, on=today()
        ),
    )


def referral_make(
    *,
    by: By,
    account_id: str,
    firm: str,
    note: str = "",
    on: date | None = None,
    override: str = "",
) -> Referral:
    """Refer the account to a law firm or an agency with its case file
    (`dunning.casefile.referral_send`): refused while the referral checklist finds something
    missing, unless `override` gives the reason to send it without; its attorneys then see it.
    The case file's email to the firm (if it has one) goes once this is committed."""
    firm = firm[: services.FIRM_LIMIT]
    override = " ".join(override.split())[:NOTE_LIMIT]

    def do(account: Any) -> casefile.CaseFileMade:
        return casefile.referral_send(
            account=account,
            firm=firm,
            on=on or today(),
            actor=by.name,
            note=note[:NOTE_LIMIT],
            override=override,
        )

    made = run_act(
        by,
        "referral.make",
        account_id=account_id,
        detail={"firm": firm, "override": override},
        do=do,
    )
    casefile.case_file_email(key=made.email_key, actor=by.name)
    return made.case


def referral_checklist(*, actor: Any, account_id: str, firm: str = "") -> dict[str, Any]:
    """What the account's referral checklist asks and what the book holds of it (a read, for
    whoever may see the account); `firm`, when given, must exist."""
    account = authorize(actor, "account.view", account_id) if not _system(actor) else None
    if account is None:
        from arrears.ledger.selectors import account_get

        account = account_get(account_id=account_id)
    return casefile.checklist_json(
        account, casefile.referral_checklist(account, firm[: services.FIRM_LIMIT]), firm
    )


def _system(actor: Any) -> bool:
    return isinstance(actor, services.SystemActor)


@dataclass(frozen=True)
class PlanTerms:
    """A plan's terms as asked (`plans.services.plan_create` says what each means)."""

    start: date
    frequency: str = "monthly"
    installments: int | None = None
    installment_amount: Decimal | None = None
    down: Decimal = ZERO
    dates: Sequence[date] = ()
    party_id: str | None = None
    acceleration_clause: str | None = None

    def detail(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "installments": "" if self.installments is None else str(self.installments),
            "frequency": self.frequency,
            "down": money_text(self.down),
            "installment_amount": money_text(self.installment_amount),
            "party_id": self.party_id or "",
        }

    def kwargs(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "frequency": self.frequency,
            "installments": self.installments,
            "installment_amount": self.installment_amount,
            "down": self.down,
            "dates": tuple(self.dates),
            "party_id": self.party_id or None,
            "acceleration_clause": self.acceleration_clause,
        }


def plan_create(
    *,
    by: By,
    account_id: str,
    terms: PlanTerms,
    charges: Sequence[str] = (),
) -> Plan:
    """A payment plan on the undisputed open balance, or the chosen charges
    (`dunning.commitments.plan_create`)."""
    charges = list(charges)[:200]
    return run_act(
        by,
        "plan.create",
        account_id=account_id,
        detail={**terms.detail(), **({"charges": charges} if charges else {})},
        do=lambda _a: commitments.plan_create(
            account_id=account_id, on=today(), actor=by.name, charges=charges, **terms.kwargs()
        ),
    )


def _plan_on(account_id: str, plan_id: int) -> Plan:
    plan = plan_get(plan_id=plan_id)
    if plan.account.account_id != account_id:
        raise NotFoundError(
            _("no plan {plan_id} on {account_id}"),
            code="plan_not_found",
            plan_id=plan_id,
            account_id=account_id,
        )
    return plan


def plan_renegotiate(
    *,
    by: By,
    account_id: str,
    plan_id: int,
    reason: str,
    terms: PlanTerms,
) -> Plan:
    """The plan replaced by one of new terms (`dunning.commitments.plan_renegotiate`)."""

    def do(_account: Any) -> Plan:
        _plan_on(account_id, plan_id)
        return commitments.plan_renegotiate(
            plan_id=plan_id, reason=reason, on=today(), actor=by.name, **terms.kwargs()
        )

    return run_act(
        by,
        "plan.renegotiate",
        account_id=account_id,
        detail={"plan": plan_id, "reason": reason[:DETAIL_LIMIT], **terms.detail()},
        do=do,
    )


def plan_cancel(*, by: By, account_id: str, plan_id: int, reason: str) -> Plan:
    """Cancel an active plan of the account, with the reason (`plans.services.plan_cancel`).

    Raises NotFoundError (no such plan on the account) or ValidationError (no reason)."""
    reason = reason[:DETAIL_LIMIT]

    def do(_account: Any) -> Plan:
        _plan_on(account_id, plan_id)
        if not reason.strip():
            raise ValidationError(
                _("a cancellation needs a reason"),
                code="plan_cancel_reason_missing",
                field="reason",
            )
        return plans.plan_cancel(plan_id=plan_id, reason=reason, on=today(), actor=by.name)

    return run_act(
        by,
        "plan.cancel",
        account_id=account_id,
        detail={"plan": plan_id, "reason": reason},
        do=do,
    )


def dispute_open(
    *,
    by: By,
    account_id: str,
    reason: str,
    charges: Sequence[str] = (),
    party_id: str | None = None,
    channel: str = "letter",
    documents: Sequence[str] = (),
) -> Dispute:
    """A party disputes the chosen charges, or the whole balance
    (`disputes.services.dispute_open`)."""
    charges = [c for c in charges if c.strip()][:200]
    detail = {
        "reason": reason[:DETAIL_LIMIT],
        "charges": charges,
        "party_id": party_id or "",
        "channel": channel,
        **({"documents": list(documents)} if documents else {}),
    }
    return run_act(
        by,
        "dispute.open",
        account_id=account_id,
        detail=detail,
        do=lambda _a: disputes.dispute_open(
            account_id=account_id,
            reason=reason[:REASON_LIMIT],
            on=today(),
            actor=by.name,
            charges=charges,
            party_id=party_id or None,
            channel=channel,
            documents=documents,
        ),
    )


def dispute_resolve(
    *,
    by: By,
    account_id: str,
    dispute_id: int,
    outcome: str,
    amount: Decimal | None = None,
    note: str = "",
) -> DisputeAnswered:
    """Resolve an open dispute of the account: the credits and the answer, queued through the
    guard (`dunning.documents.dispute_resolve`). NotFoundError for a dispute of no such id on
    the account."""

    def do(_account: Any) -> DisputeAnswered:
        if dispute_get(dispute_id=dispute_id).account.account_id != account_id:
            raise NotFoundError(
                _("no dispute {dispute_id} on {account_id}"),
                code="dispute_not_found",
                dispute_id=dispute_id,
                account_id=account_id,
            )
        return documents.dispute_resolve(
            dispute_id=dispute_id,
            outcome=outcome,
            on=today(),
            actor=by.name,
            amount=amount,
            note=note[:REASON_LIMIT],
        )

    detail = {
        "dispute": dispute_id,
        "outcome": outcome,
        "amount": money_text(amount),
        "note": note[:DETAIL_LIMIT],
    }
    return run_act(
        by,
        "dispute.resolve",
        account_id=account_id,
        detail=detail,
        do=do,
    )


@dataclass(frozen=True)
class StatementSent:
    """The statement archived, and what the email sender said when it was emailed."""

    statement: Statement
    emailed: str | None


def statement_send(
    *,
    by: By,
    account_id: str,
    email: bool = False,
    as_of: date | None = None,
    filename: str = "",
) -> StatementSent:
    """The statement as of `as_of` (today), archived (`statements.statement_pdf`); with `email`,
    emailed through the guard as `filename` (`contact.statement_email`): at once, its try
    committed first, so audited as a change that commits as it goes (`act_job`)."""
    as_of = as_of or today()
    filename = filename or f"statement-{account_id}-{as_of.isoformat()}.pdf"

    def do() -> StatementSent:
        statement = statement_pdf(account_id=account_id, as_of=as_of, actor=by.name)
        said = (
            contact.statement_email(
                account_id=account_id,
                as_of=as_of,
                pdf=statement.data,
                filename=filename,
                actor=by.name,
            )
            if email
            else None
        )
        return StatementSent(statement, said)

    if email:
        return run_job(by, "statement.send", account_id=account_id, detail={"email": True}, do=do)
    return run_act(
        by, "statement.send", account_id=account_id, detail={"email": False}, do=lambda _a: do()
    )


def notice_send(
    *,
    by: By,
    account_id: str,
    template: str,
    channel: str = "letter",
    party_id: str | None = None,
    confirm: bool = False,
) -> NoticeQueued:
    """A notice of the account's policy sent now: queued for the print batch or the sender,
    if the guard allows it now (`dunning.notices.notice_send`); a statutory notice only with
    `confirm` (NoticeQuestionedError, code notice_needs_confirmation, otherwise)."""
    detail = {"template": template[:100], "channel": channel[:20], "party_id": party_id or ""}
    return run_act(
        by,
        "notice.send",
        account_id=account_id,
        detail=detail,
        do=lambda _a: notices.notice_send(
            account_id=account_id,
            template=template,
            channel=channel,
            on=today(),
            actor=by.name,
            party_id=party_id or None,
            confirm=confirm,
        ),
    )


def letters_mailed(*, by: By, manifest: Path, on: date, named: dict[str, str]) -> MailedResult:
    """Proof of mailing recorded from a manifest (`correspondence.services.letters_mailed`),
    all or nothing; `named` is how the interface names what it was given (the manifest's
    path, the lines typed), kept in the audit row."""
    return run_act(
        by,
        "letters.manage",
        detail={**named, "on": on.isoformat()},
        do=lambda _a: correspondence.letters_mailed(manifest=manifest, mailed_on=on, actor=by.name),
    )


def letter_returned(
    *, by: By, letter: str, reason: str = "", on: date | None = None
) -> ReturnedMail:
    """A letter came back undelivered (`correspondence.services.mail_returned`): its address
    is marked bad for the party."""
    return run_act(
        by,
        "letters.manage",
        detail={"returned": letter[:40], "reason": reason[:200]},
        do=lambda _a: correspondence.mail_returned(
            letter=letter[:40], on=on or today(), actor=by.name, reason=reason[:200]
        ),
    )


def book_import(
    *,
    by: By,
    path: Path,
    name: str,
    into_open_period: bool = False,
    progress: Any = None,
    mapping: str = "",
    as_of: date | None = None,
) -> ImportSummary:
    """Import a book, all or nothing (`ledger.services.book_import`); `name` is the file as
    the user named it (the path given, an upload's name), which the audit row and the import's
    record keep. With `mapping`, the file is a property-management export and the mapping (a
    builtin's name or a mapping file) translates it first; `as_of` dates an aging export."""
    detail: dict[str, Any] = {"file": name[:200], "into_open_period": into_open_period}
    if mapping:
        detail["mapping"] = mapping[:200]
    return run_act(
        by,
        "import",
        detail=detail,
        do=lambda _a: _with_consents(
            ledger.book_import(
                path,
                progress=progress,
                into_open_period=into_open_period,
                name=name,
                mapping=mapping,
                as_of=as_of,
            ),
            by,
        ),
    )


def _with_consents(summary: ImportSummary, by: By) -> ImportSummary:
    """The import's consent cells recorded as consent (`dunning.consent.consents_from_import`)."""
    consents_from_import(actor=by.name, on=today())
    return summary


@dataclass(frozen=True)
class BookRun:
    """The daily run's result, and its emails' (None: not sent with the run)."""

    result: RunResult
    emails: Any


def book_run(
    *,
    by: By,
    on: date,
    dry_run: bool,
    send_emails: bool = False,
    progress: Callable[[int, int], None] | None = None,
    holding: Callable[[], contextlib.AbstractContextManager[None]] = contextlib.nullcontext,
    wait: float = 600,
) -> BookRun:
    """The daily run for `on` (`dunning.services.cycle_run`), a job that commits as it goes;
    with `send_emails` and EMAIL_URL, a real run's emails go out at once (`emails_send`).
    With CELERY_BROKER_URL its chunks go to the workers, waited for `wait` seconds
    (`core.broker.NoWorkerError` when none answers).

    A real run is done on its day or after, never before (ValidationError `run_after_today`,
    nothing done): a late fee is lawful only once the rent is late by the statute's days as of
    the day it is charged (NY RPL §238-a(2): more than five days), and a payment made before
    that day must stop it; a notice dated ahead would be mailed saying a day that has not come.
    A dry run shows a day ahead. (The service itself, `cycle_run`, takes any day: the tests
    play a book's weeks through it without moving the clock.)"""
    day = today()
    if not dry_run and on > day:
        raise ValidationError(
            _(
                "the run for {on} is after today ({today}): a run is done on its day or after "
                "(a dry run shows what it would do)"
            ),
            code="run_after_today",
            on=on.isoformat(),
            today=day.isoformat(),
        )

    def do() -> BookRun:
        result = dunning.cycle_run(
            on=on, dry_run=dry_run, actor=by.name, progress=progress, holding=holding, wait=wait
        )
        if dry_run or not send_emails or not settings.EMAIL_URL:
            return BookRun(result, None)
        emails = contact.emails_send(
            on=on,
            settings=smtp_from_env(),
            sender=Sender.from_env(),
            actor=by.name,
            # In this process once the run has talked to the broker: a renderer forked after
            # that was seen to hang at its exit on the broker's inherited sockets.
            workers=1 if broker_url() else 2,
            wait=wait,
        )
        return BookRun(result, emails)

    return run_job(
        by,
        "run.dry" if dry_run else "run.real",
        detail={"date": on.isoformat(), "dry_run": dry_run},
        do=do,
    )


# The acts on an account's record (contact points, consent, documents): arrears.access.acts_record;
# those of a move-out and its deposit: arrears.access.acts_moveout; refunds of credit balances:
# arrears.access.acts_refunds.
from arrears.access.acts_moveout import deposit_dispose as deposit_dispose  # noqa: E402
from arrears.access.acts_moveout import deposit_show as deposit_show  # noqa: E402
from arrears.access.acts_moveout import (  # noqa: E402
    deposit_statement_preview as deposit_statement_preview,
)
from arrears.access.acts_moveout import (  # noqa: E402
    deposit_statement_send as deposit_statement_send,
)
from arrears.access.acts_moveout import moveout_record as moveout_record  # noqa: E402
from arrears.access.acts_record import consent_grant as consent_grant  # noqa: E402
from arrears.access.acts_record import consent_withdraw as consent_withdraw  # noqa: E402
from arrears.access.acts_record import document_add as document_add  # noqa: E402
from arrears.access.acts_record import party_update as party_update  # noqa: E402
from arrears.access.acts_refunds import refund_approve as refund_approve  # noqa: E402
from arrears.access.acts_refunds import refund_batch as refund_batch  # noqa: E402
from arrears.access.acts_refunds import refund_list as refund_list  # noqa: E402
from arrears.access.acts_refunds import refund_reject as refund_reject  # noqa: E402
from arrears.access.acts_refunds import refunds_export as refunds_export  # noqa: E402
