"""The acts of firms and cases (arrears.legal.services), offered by arrears.access.acts: who may,
in one transaction with its audit row.

A firm's attorneys and paralegals act only on their firm's cases (the scope of the account is not
enough: an account may be with two firms); a paralegal records a case's steps but nothing about
money (a judgment, a settlement, a satisfaction).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from arrears.access import permissions
from arrears.access.acting import By, money_text, run_act
from arrears.access.errors import ForbiddenError
from arrears.access.selectors import accounts_visible, authorize, profile_of
from arrears.access.services import SystemActor
from arrears.core.dates import today
from arrears.core.errors import NotFoundError
from arrears.ledger.selectors import account_get
from arrears.legal import services as legal
from arrears.legal import settlements
from arrears.legal.models import Firm, Meeting, Referral, Settlement, WriteOff
from arrears.legal.schedule import Due
from arrears.legal.selectors import (
    case_json,
    case_settlements,
    settlement_json,
    writeoffs_summary,
)


def firm_add(
    *,
    by: By,
    name: str,
    kind: str = "law",
    contingency_percent: Decimal = Decimal("0"),
    flat_fee: Decimal = Decimal("0"),
    advances_court_costs: bool = False,
    jurisdictions: list[str] | None = None,
    email: str = "",
) -> Firm:
    """Add a law firm or an agency with its fee terms (an admin's act)."""
    return run_act(
        by,
        "firm.add",
        detail={
            "name": name[:100],
            "kind": kind[:10],
            "contingency_percent": money_text(contingency_percent),
            "flat_fee": money_text(flat_fee),
            "advances_court_costs": advances_court_costs,
            "jurisdictions": [j[:10] for j in (jurisdictions or [])][:60],
            "email": email[:254],
        },
        do=lambda _account: legal.firm_add(
            name=name,
            kind=kind,
            contingency_percent=contingency_percent,
            flat_fee=flat_fee,
            advances_court_costs=advances_court_costs,
            jurisdictions=jurisdictions,
            email=email[:254],
            on=today(),
        ),
    )


def case_visible(actor: Any, case_id: int) -> Referral:
    """The case `case_id` if `actor` may see it: its account in the actor's scope and, for a
    firm's user, the case at their firm. NotFoundError otherwise (another firm's case is not
    told apart from no case)."""
    case = Referral.objects.select_related("account").filter(pk=case_id).first()
    if case is not None and not isinstance(actor, SystemActor):
        profile = profile_of(actor)
        if profile is None:
            case = None
        elif profile.role in permissions.FIRM_ROLES:
            if case.firm != profile.firm:
                case = None
        elif not accounts_visible(actor).filter(pk=case.account_id).exists():
            case = None
    if case is None:
        raise NotFoundError(_("no case {case_id}"), code="case_unknown", case_id=case_id)
    return case


def cases_visible(actor: Any, *, firm: str = "", open_only: bool = True) -> list[Referral]:
    """The cases `actor` may see (a firm's user: their firm's; others: within their scope),
    newest first; `firm` narrows to one firm."""
    cases = Referral.objects.select_related("account").order_by("-referred_on", "-pk")
    if open_only:
        cases = cases.filter(withdrawn_on__isnull=True)
    if firm:
        cases = cases.filter(firm__iexact=firm.strip())
    if not isinstance(actor, SystemActor):
        profile = profile_of(actor)
        if profile is None:
            return []
        if profile.role in permissions.FIRM_ROLES:
            cases = cases.filter(firm=profile.firm)
        elif not permissions.sees_everything(profile.role):
            cases = cases.filter(account__in=accounts_visible(actor))
    return list(cases[:5000])


def case_show(*, actor: Any, case_id: int) -> dict[str, Any]:
    """One case as JSON, for whoever may see it (`case_visible`)."""
    return case_json(case_visible(actor, case_id))


def case_update(
    *,
    by: By,
    case_id: int,
    status: str,
    on: date | None = None,
    index_number: str = "",
    court: str = "",
    amount: Decimal | None = None,
    note: str = "",
) -> Referral:
    """Record a case's step as the firm reports it (`legal.services.case_update`)."""
    case = case_visible(by.actor, case_id)
    day = on or today()
    if not isinstance(by.actor, SystemActor):
        role = getattr(profile_of(by.actor), "role", None)
        if role == permissions.PARALEGAL and status in legal.MONEY_STATUSES:
            raise ForbiddenError(
                _("a paralegal does not record {status}: an attorney of the firm does"),
                code="case_money",
                status=status,
            )
        if status == "recalled" and role in permissions.FIRM_ROLES:
            raise ForbiddenError(
                _("a case is recalled by the company, not by the firm"), code="case_recall"
            )

    def do(_account: Any) -> Referral:
        legal.case_update(
            case=case,
            status=status,
            on=day,
            actor=by.name,
            today=today(),
            index_number=index_number,
            court=court,
            amount=amount,
            note=note,
        )
        case.refresh_from_db()
        return case

    return run_act(
        by,
        "case.update",
        account_id=case.account.account_id,
        detail={
            "case": case_id,
            "status": status[:12],
            "on": day.isoformat(),
            "index_number": index_number[:60],
            "court": court[:200],
            "amount": money_text(amount),
            "note": note[:500],
        },
        do=do,
    )


def _firm_in_scope(actor: Any, firm: str) -> str:
    """The firm `firm` names, if `actor` may see its cases (a firm's user: their own firm);
    NotFoundError otherwise, as for a firm that does not exist."""
    known = legal.firm_named(firm)
    profile = None if isinstance(actor, SystemActor) else profile_of(actor)
    if (
        profile is not None
        and profile.role in permissions.FIRM_ROLES
        and profile.firm != known.name
    ):
        raise NotFoundError(_("no firm is named {firm}"), code="firm_unknown", firm=firm)
    return known.name


def agenda_read(*, actor: Any, firm: str, month: str | None = None) -> dict[str, Any]:
    """The agenda of a month's meeting with a firm (`reports.agenda`), for whoever may read it: a
    coordinator, a controller, an admin, and the firm's own attorneys and paralegals."""
    from arrears.access.selectors import authorize
    from arrears.reports.agenda import Month, agenda

    if not isinstance(actor, SystemActor):
        authorize(actor, "agenda.view")
    name = _firm_in_scope(actor, firm)
    day = today()
    return agenda(firm=name, month=Month.parse(month) if month else Month.of(day), today=day)


def minutes_record(
    *, by: By, firm: str, month: str, notes: dict[int, str], held_on: date | None = None
) -> Meeting:
    """Record the month's meeting with a firm and each case's minutes, on its timeline
    (`legal.services.minutes_record`)."""
    name = _firm_in_scope(by.actor, firm)
    day = held_on or today()
    return run_act(
        by,
        "minutes.record",
        detail={
            "firm": name,
            "month": month[:7],
            "held_on": day.isoformat(),
            "notes": {str(k): v[:500] for k, v in sorted(notes.items())},
        },
        do=lambda _account: legal.minutes_record(
            firm=name, month=month, held_on=day, notes=notes, actor=by.name
        ),
    )


# -- settlements and write-offs (arrears.legal.settlements) --------------------------------------


def settlement_offer(
    *,
    by: By,
    case_id: int,
    amount: Decimal,
    installments: list[tuple[date, Decimal]],
    note: str = "",
) -> Settlement:
    """Offer a settlement of a case's balance (`settlements.settlement_offer`): the coordinator,
    or an attorney of the case's firm."""
    case = case_visible(by.actor, case_id)
    return run_act(
        by,
        "settlement.offer",
        account_id=case.account.account_id,
        detail={
            "case": case_id,
            "amount": money_text(amount),
            "installments": [
                {"due_on": d.isoformat(), "amount": money_text(a)} for d, a in installments[:60]
            ],
            "note": note[:500],
        },
        do=lambda _account: settlements.settlement_offer(
            case=case,
            amount=amount,
            installments=[Due(d, a) for d, a in installments],
            actor=by.name,
            today=today(),
            note=note,
        ),
    )


def settlement_visible(actor: Any, settlement_id: int, case_id: int | None = None) -> Settlement:
    """The settlement if `actor` may see its case (`case_visible`), and of `case_id` when one is
    named; NotFoundError otherwise."""
    found = Settlement.objects.filter(pk=settlement_id).values_list("case_id", flat=True).first()
    if found is None or (case_id is not None and found != case_id):
        raise NotFoundError(
            _("no settlement {settlement_id}"),
            code="settlement_unknown",
            settlement_id=settlement_id,
        )
    case_visible(actor, found)
    return settlements.settlement_get(settlement_id)


def settlement_decide(
    *, by: By, settlement_id: int, approve: bool, reason: str = "", case_id: int | None = None
) -> Settlement:
    """Approve or reject a settlement offered (`settlements.settlement_decide`): a manager of
    the account's property (the account in his scope), a controller or an admin."""
    s = settlement_visible(by.actor, settlement_id, case_id)
    verb = "settlement.approve" if approve else "settlement.reject"
    return run_act(
        by,
        verb,
        account_id=s.account.account_id,
        detail={"settlement": settlement_id, "case": s.case_id, "reason": reason[:500]},
        do=lambda _account: settlements.settlement_decide(
            settlement_id=settlement_id,
            approve=approve,
            actor=by.name,
            today=today(),
            reason=reason,
        ),
    )


def settlement_show(
    *, actor: Any, settlement_id: int, case_id: int | None = None
) -> dict[str, Any]:
    """One settlement as JSON, tracked as of today, for whoever may see its case."""
    return settlement_json(settlement_visible(actor, settlement_id, case_id), on=today())


def case_settlements_show(*, actor: Any, case_id: int) -> list[dict[str, Any]]:
    """The case's settlements, newest first, for whoever may see the case."""
    case = case_visible(actor, case_id)
    return [settlement_json(s, on=today()) for s in case_settlements(case)]


def money_check(*, by: By, on: date | None = None) -> dict[str, int]:
    """Settle now what the daily run would (`settlements.money_review`): settlements paid or
    broken, payments after a write-off recovered."""
    day = on or today()
    return run_act(
        by,
        "settlement.check",
        detail={"on": day.isoformat()},
        do=lambda _account: settlements.money_review(on=day, actor=by.name).as_dict(),
    )


def writeoff_post(
    *, by: By, account_id: str, amount: Decimal, reason: str, on: date | None = None
) -> WriteOff:
    """Write an account's balance off to bad debt (`settlements.writeoff_post`): a controller or
    an admin."""
    day = on or today()
    return run_act(
        by,
        "writeoff.post",
        account_id=account_id,
        detail={"amount": money_text(amount), "reason": reason[:500], "on": day.isoformat()},
        do=lambda account: settlements.writeoff_post(
            account_id=account.account_id if account else account_id,
            amount=amount,
            reason=reason,
            on=day,
            actor=by.name,
            today=today(),
        ),
    )


def writeoff_show(*, actor: Any, account_id: str) -> dict[str, Any]:
    """The account's write-offs and the recoveries after them, for whoever may see it."""
    if isinstance(actor, SystemActor):
        account = account_get(account_id=account_id)
    else:
        found = authorize(actor, "writeoff.view", account_id)
        assert found is not None
        account = found
    return writeoffs_summary(account)


def case_packet(*, actor: Any, case_id: int) -> tuple[str, bytes]:
    """A case's case file (its ZIP's download name and bytes), for whoever may see the case
    (`case_visible`: another firm's users get NotFoundError, as for no case)."""
    from arrears.dunning.casefile import packet_of

    return packet_of(case_visible(actor, case_id))
