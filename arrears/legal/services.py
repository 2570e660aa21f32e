"""Writes of the legal part: firms, referring an account to a firm (the case), and the case's
changes as the firm reports them.

Every change is written with its timeline row in one transaction. The interfaces reach these
services through `access.acts_legal` (and `access.acts.referral_make`), which authorize the
actor and write the audit row.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from arrears.core.errors import NotFoundError, ValidationError
from arrears.ledger.models import Account, TimelineEvent
from arrears.ledger.selectors import account_ledger
from arrears.legal.models import FIRM_KINDS, CaseEvent, Firm, Meeting, Referral
from arrears.legal.statuses import ENDED as CASE_ENDED
from arrears.legal.statuses import MONEY_STATUSES as MONEY_STATUSES
from arrears.legal.statuses import UPDATES

FIRM_LIMIT = 100  # Firm.name, Referral.firm
NOTE_LIMIT = 500

# What an update to a status needs (besides its day).
_NEEDS_INDEX = ("filed",)
_NEEDS_AMOUNT = ("judgment",)


def firm_add(
    *,
    name: str,
    kind: str = "law",
    contingency_percent: Decimal = Decimal("0"),
    flat_fee: Decimal = Decimal("0"),
    advances_court_costs: bool = False,
    jurisdictions: list[str] | None = None,
    email: str = "",
    on: date,
) -> Firm:
    """Add a law firm or a collection agency; ValidationError on a bad or taken name or terms."""
    name = " ".join(name.split())
    if not name or len(name) > FIRM_LIMIT:
        raise ValidationError(
            _("a firm's name is 1 to {limit} characters"),
            code="firm_name",
            limit=FIRM_LIMIT,
            field="name",
        )
    if kind not in FIRM_KINDS:
        raise ValidationError(
            _("a firm is a law firm or an agency, not {kind}"),
            code="firm_kind",
            kind=kind,
            field="kind",
        )
    if not Decimal("0") <= contingency_percent <= Decimal("100"):
        raise ValidationError(
            _("a contingency is a percentage from 0 to 100, not {percent}"),
            code="firm_contingency",
            percent=str(contingency_percent),
            field="contingency",
        )
    if flat_fee < 0:
        raise ValidationError(
            _("a flat fee is not negative"), code="firm_flat_fee", field="flat_fee"
        )
    states = sorted({s.strip().upper() for s in (jurisdictions or []) if s.strip()})
    with transaction.atomic():
        if Firm.objects.filter(name__iexact=name).exists():
            raise ValidationError(
                _("a firm named {name} exists already"), code="firm_exists", name=name, field="name"
            )
        return Firm.objects.create(
            name=name,
            kind=kind,
            contingency_percent=contingency_percent,
            flat_fee=flat_fee,
            advances_court_costs=advances_court_costs,
            jurisdictions=states,
            email=email.strip(),
            created_on=on,
        )


def firm_named(name: str) -> Firm:
    """The firm of that name (case-insensitive); NotFoundError naming it otherwise."""
    firm = Firm.objects.filter(name__iexact=" ".join(name.split())).first()
    if firm is None:
        raise NotFoundError(_("no firm is named {firm}"), code="firm_unknown", firm=name)
    return firm


def referral_make(
    *,
    account: Account,
    firm: str,
    on: date,
    actor: str,
    note: str = "",
    balance: Decimal | None = None,
    status: str = "sent",
    packet: str = "",
) -> Referral:
    """Refer an account to a firm: the case opens (the firm's users then see it), written on the
    timeline with its first event.

    Raises NotFoundError for a firm that does not exist, ValidationError without a firm, for a
    firm that does not take the account's jurisdiction, or when the account is already with it.
    """
    known = firm_takes(account=account, firm=firm)
    if on < account.opened_on:
        raise ValidationError(
            _("a referral cannot be dated before the account opened ({opened})"),
            code="referral_before_open",
            opened=account.opened_on,
            field="on",
        )
    if balance is None:  # what the firm is asked to collect: the balance on the day
        balance = account_ledger(account_id=account.account_id, as_of=on, account=account).balance
    with transaction.atomic():
        if Referral.objects.filter(
            account=account, firm=known.name, withdrawn_on__isnull=True
        ).exists():
            raise ValidationError(
                _("{account_id} is already referred to {firm}"),
                code="referral_exists",
                account_id=account.account_id,
                firm=known.name,
            )
        referral = Referral.objects.create(
            account=account,
            firm=known.name,
            referred_on=on,
            referred_by=actor,
            note=note[:NOTE_LIMIT],
            status=status,
            status_on=on,
            balance_referred=balance,
            packet=packet,
        )
        _event(referral, status=status, on=on, actor=actor, note=note, detail={})
        TimelineEvent.objects.create(
            account=account,
            at=timezone.now(),
            on=on,
            kind="referral.made",
            actor=actor,
            summary=f"referred to {known.name}",
            detail={"referral": referral.pk, "firm": known.name, "note": note, "status": status},
        )
    return referral


def case_get(case_id: int) -> Referral:
    """The case of that id, with its account; NotFoundError otherwise."""
    case = Referral.objects.select_related("account").filter(pk=case_id).first()
    if case is None:
        raise NotFoundError(_("no case {case_id}"), code="case_unknown", case_id=case_id)
    return case


def case_update(
    *,
    case: Referral,
    status: str,
    on: date,
    actor: str,
    today: date,
    index_number: str = "",
    court: str = "",
    amount: Decimal | None = None,
    note: str = "",
) -> CaseEvent:
    """Record what happened to a case (filed, a hearing, a judgment, …) on `on`.

    A hearing's `on` is the hearing's day (ahead, usually); every other status happened on `on`,
    which cannot be ahead of `today`. A filing needs the index number (or the case has one), a
    judgment its amount. A case closed or recalled takes no more updates; closing or recalling
    it ends the case, which releases its hold on the account's collection.
    """
    if status not in UPDATES:
        raise ValidationError(
            _("a case's status is one of {statuses}, not {status}"),
            code="case_status",
            statuses=", ".join(UPDATES),
            status=status,
            field="status",
        )
    if status != "hearing" and on > today:
        raise ValidationError(
            _("{status} cannot be dated after today ({today})"),
            code="case_date_ahead",
            status=status,
            today=today,
            field="on",
        )
    if on < case.referred_on:
        raise ValidationError(
            _("the case was referred on {referred}: {status} cannot be dated before it"),
            code="case_date_before",
            referred=case.referred_on,
            status=status,
            field="on",
        )
    index_number = index_number.strip()[:60]
    court = court.strip()[:200]
    if status in _NEEDS_INDEX and not (index_number or case.index_number):
        raise ValidationError(
            _("a filing needs its index number"), code="case_index_missing", field="index_number"
        )
    if status in _NEEDS_AMOUNT and (amount is None or amount <= 0):
        raise ValidationError(
            _("a judgment needs its amount, above zero"),
            code="case_amount_missing",
            field="amount",
        )
    if amount is not None and amount < 0:
        raise ValidationError(_("an amount is not negative"), code="case_amount", field="amount")
    with transaction.atomic():
        case = Referral.objects.select_for_update().get(pk=case.pk)
        if case.withdrawn_on is not None:
            raise ValidationError(
                _("case {case_id} is {status} since {day}: it takes no more updates"),
                code="case_ended",
                case_id=case.pk,
                status=case.status,
                day=case.withdrawn_on,
            )
        detail: dict[str, Any] = {}
        # A hearing is recorded the day it is set (`today`), for the day it will be held (`on`):
        # the case is "hearing scheduled" since today, its next hearing on `on`. Every other
        # step happened on `on`, and a hearing held by then is no longer ahead.
        happened = today if status == "hearing" else on
        case.status = status
        case.status_on = happened
        if status != "hearing" and case.hearing_on is not None and case.hearing_on <= on:
            case.hearing_on = None
        if index_number:
            case.index_number = detail["index_number"] = index_number
        if court:
            case.court = detail["court"] = court
        if status == "hearing":
            case.hearing_on = on
            detail["hearing_on"] = on.isoformat()
        if status == "judgment":
            case.judgment_amount = amount
            case.judgment_on = on
            detail["amount"] = f"{amount:.2f}"
        elif amount is not None:
            detail["amount"] = f"{amount:.2f}"
        if status in CASE_ENDED:
            case.withdrawn_on = on
            case.hearing_on = None
        case.save()
        event = _event(case, status=status, on=happened, actor=actor, note=note, detail=detail)
        TimelineEvent.objects.create(
            account=case.account,
            at=timezone.now(),
            on=happened,
            kind=f"case.{status}",
            actor=actor,
            summary=_summary(case, status, on, detail),
            detail={"case": case.pk, "firm": case.firm, "status": status, "note": note, **detail},
        )
    return event


def _summary(case: Referral, status: str, on: date, detail: dict[str, Any]) -> str:
    """The timeline's line for a case's change (stored in English, as the timeline's are)."""
    text = f"case {case.pk} ({case.firm}): {status}"
    if status == "hearing":
        text += f", hearing on {on:%Y-%m-%d}"
    if detail.get("index_number"):
        text += f", index number {detail['index_number']}"
    if detail.get("court"):
        text += f", {detail['court']}"
    if detail.get("amount"):
        text += f", {detail['amount']}"
    return text[:500]


def _event(
    case: Referral, *, status: str, on: date, actor: str, note: str, detail: dict[str, Any]
) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case,
        status=status,
        on=on,
        at=timezone.now(),
        actor=actor,
        note=note[:NOTE_LIMIT],
        detail=detail,
    )


def minutes_record(
    *, firm: str, month: str, held_on: date, notes: dict[int, str], actor: str
) -> Meeting:
    """Record the month's meeting with a firm and its minutes: each case's note is written to
    its account's timeline (`case.minutes`). A meeting is recorded once per firm and month; a
    second recording adds the new notes to it (the minutes are kept, never rewritten).

    Raises ValidationError for a month that is not YYYY-MM, a note of a case not at the firm,
    or an empty note.
    """
    known = firm_named(firm)
    try:
        date.fromisoformat(f"{month}-01")
    except ValueError:
        raise ValidationError(
            _("a month is YYYY-MM, not {month}"), code="month_invalid", month=month, field="month"
        ) from None
    cases = {c.pk: c for c in Referral.objects.select_related("account").filter(pk__in=notes)}
    for case_id, text in notes.items():
        case = cases.get(case_id)
        if case is None or case.firm != known.name:
            raise ValidationError(
                _("case {case_id} is not a case of {firm}"),
                code="minutes_case",
                case_id=case_id,
                firm=known.name,
                field="case",
            )
        if not text.strip():
            raise ValidationError(
                _("the minutes of case {case_id} are empty"),
                code="minutes_empty",
                case_id=case_id,
                field="case",
            )
    with transaction.atomic():
        meeting, _made = Meeting.objects.select_for_update().get_or_create(
            firm=known.name,
            month=month,
            defaults={"held_on": held_on, "recorded_by": actor, "minutes": {}},
        )
        minutes = dict(meeting.minutes)
        for case_id, text in notes.items():
            text = text.strip()[:NOTE_LIMIT]
            key = str(case_id)
            minutes[key] = f"{minutes[key]}\n{text}" if key in minutes else text
            TimelineEvent.objects.create(
                account=cases[case_id].account,
                at=timezone.now(),
                on=meeting.held_on,
                kind="case.minutes",
                actor=actor,
                summary=f"meeting with {known.name} ({month}), case {case_id}: {text}"[:500],
                detail={"case": case_id, "firm": known.name, "month": month, "text": text},
            )
        meeting.minutes = minutes
        meeting.save(update_fields=["minutes"])
    return meeting


def firm_takes(*, account: Account, firm: str) -> Firm:
    """The firm named `firm` if it takes `account`'s case: NotFoundError for a firm that does
    not exist, ValidationError without a name or for a firm that does not take the account's
    jurisdiction (checked before a case file is built for it)."""
    if not firm.strip():
        raise ValidationError(
            _("a referral names a firm"), code="referral_firm_missing", field="firm"
        )
    known = firm_named(firm)
    state = (account.property.state if account.property is not None else "").upper()
    if known.jurisdictions and state and state not in known.jurisdictions:
        raise ValidationError(
            _("{firm} does not take cases in {state}"),
            code="referral_jurisdiction",
            firm=known.name,
            state=state,
            field="firm",
        )
    return known
