"""Reads of the legal part: the open cases that hold an account's collection, one case as the
CLI's and the API's JSON, a firm's cases."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Q, Sum

from arrears.ledger.models import Account, Transaction
from arrears.legal import schedule
from arrears.legal.ics import HearingDate
from arrears.legal.models import CaseEvent, Firm, Referral, Settlement, WriteOff

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class OpenCase:
    case_id: int
    firm: str
    status: str


def cases_open(account_pks: Sequence[int], on: date) -> dict[int, OpenCase]:
    """The accounts of `account_pks` with a case open on `on` (referred by then, not ended by
    then), each with its latest (one query): the daily run holds every step of them (rule
    `referred`)."""
    out: dict[int, OpenCase] = {}
    rows = (
        Referral.objects.filter(account_id__in=list(account_pks), referred_on__lte=on)
        .filter(Q(withdrawn_on__isnull=True) | Q(withdrawn_on__gt=on))
        .order_by("account_id", "referred_on", "pk")
        .values_list("account_id", "pk", "firm", "status")
    )
    for account_pk, pk, firm, status in rows:
        out[account_pk] = OpenCase(pk, firm, status)
    return out


def firms() -> list[Firm]:
    return list(Firm.objects.order_by("name"))


def firm_json(firm: Firm) -> dict[str, Any]:
    return {
        "name": firm.name,
        "kind": firm.kind,
        "contingency_percent": f"{firm.contingency_percent:.2f}",
        "flat_fee": f"{firm.flat_fee:.2f}",
        "advances_court_costs": firm.advances_court_costs,
        "jurisdictions": list(firm.jurisdictions),
        "email": firm.email,
    }


def case_json(case: Referral) -> dict[str, Any]:
    """One case as `arrears case show --format json` and `GET /api/cases/{id}` print it."""
    events = CaseEvent.objects.filter(case=case).order_by("pk")
    return {
        "case_id": case.pk,
        "account_id": case.account.account_id,
        "firm": case.firm,
        "status": case.status,
        "status_on": case.status_on.isoformat() if case.status_on else None,
        "referred_on": case.referred_on.isoformat(),
        "referred_by": case.referred_by,
        "balance_referred": _money(case.balance_referred),
        "index_number": case.index_number or None,
        "court": case.court or None,
        "hearing_on": case.hearing_on.isoformat() if case.hearing_on else None,
        "judgment_amount": _money(case.judgment_amount),
        "judgment_on": case.judgment_on.isoformat() if case.judgment_on else None,
        "ended_on": case.withdrawn_on.isoformat() if case.withdrawn_on else None,
        "packet": case.packet or None,
        "recovery": case_recovery(case),
        "events": [
            {
                "status": e.status,
                "on": e.on.isoformat(),
                "at": e.at.isoformat(),
                "actor": e.actor,
                "note": e.note,
                **e.detail,
            }
            for e in events
        ],
    }


def referral_json(case: Referral) -> dict[str, Any]:
    """A referral as `arrears refer --format json` prints it (the issue's contract): the case,
    its case file's archive name, what the checklist found missing and the documents it holds."""
    packet = case.packet_manifest or {}
    return {
        "account_id": case.account.account_id,
        "firm": case.firm,
        "case_id": case.pk,
        "packet": case.packet or None,
        "missing": list(packet.get("missing", [])),
        "documents": [
            {"name": d["name"], "sha256": d["sha256"]} for d in packet.get("documents", [])
        ],
    }


def case_row(case: Referral) -> dict[str, Any]:
    """A case as a line of a list (`arrears case list --format json`, `GET /api/cases`)."""
    return {
        "case_id": case.pk,
        "account_id": case.account.account_id,
        "firm": case.firm,
        "status": case.status,
        "status_on": case.status_on.isoformat() if case.status_on else None,
        "index_number": case.index_number or None,
        "hearing_on": case.hearing_on.isoformat() if case.hearing_on else None,
        "balance_referred": _money(case.balance_referred),
        "ended_on": case.withdrawn_on.isoformat() if case.withdrawn_on else None,
    }


def _money(value: Any) -> str | None:
    return None if value is None else f"{value:.2f}"


def hearing_dates(cases: Sequence[Referral], *, today: date) -> list[HearingDate]:
    """The hearings set on `cases` (every `hearing` event, one per case and day, the last
    recorded winning), by day. A hearing ahead of `today` that is no longer its case's next one
    (moved to another day, or the case ended) is not `current`: a calendar cancels it."""
    by_pk = {c.pk: c for c in cases}
    found: dict[tuple[int, date], HearingDate] = {}
    events = CaseEvent.objects.filter(case_id__in=list(by_pk), status="hearing").order_by(
        "at", "pk"
    )
    for event in events:
        case = by_pk[event.case_id]
        day = date.fromisoformat(event.detail.get("hearing_on") or event.on.isoformat())
        current = day < today or (case.withdrawn_on is None and case.hearing_on == day)
        found[(case.pk, day)] = HearingDate(
            case_id=case.pk,
            account_id=case.account.account_id,
            firm=case.firm,
            on=day,
            court=event.detail.get("court") or case.court,
            index_number=case.index_number,
            recorded_at=event.at,
            current=current,
        )
    return sorted(found.values(), key=lambda h: (h.on, h.case_id))


def hearings_ahead(*, on: date, days: int) -> list[Referral]:
    """The open cases whose next hearing is from `on` to `days` days after it (one query)."""
    return list(
        Referral.objects.select_related("account")
        .filter(withdrawn_on__isnull=True, hearing_on__gte=on, hearing_on__lte=on + timedelta(days))
        .order_by("hearing_on", "pk")
    )


def case_of_account(account_pk: int) -> Referral | None:
    """The account's latest open case (the account page's badge), or None."""
    return (
        Referral.objects.filter(account_id=account_pk, withdrawn_on__isnull=True)
        .order_by("-referred_on", "-pk")
        .first()
    )


def case_changes(
    *, property_pks: Sequence[int], since: datetime, through: datetime
) -> list[CaseEvent]:
    """The changes of the cases of accounts in `property_pks` recorded after `since`, up to
    `through` (a referral, a filing, a hearing set, a judgment, …), oldest first."""
    return list(
        CaseEvent.objects.select_related("case", "case__account", "case__account__property")
        .filter(case__account__property_id__in=list(property_pks), at__gt=since, at__lte=through)
        .order_by("case__account__property__property_id", "case__account__account_id", "at", "pk")
    )


# -- settlements, write-offs and what a case recovered (docs/legal.md) ----------------------------


def recovered_between(account_pk: int, start: date, end: date | None) -> Decimal:
    """The payments posted on the account from `start` to `end` (both included; no end: to
    now), less the reversals of payments posted then: what a case recovered in that time."""
    rows = Transaction.objects.filter(account_id=account_pk, posted_on__gte=start)
    if end is not None:
        rows = rows.filter(posted_on__lte=end)
    paid = rows.filter(type="payment").aggregate(s=Sum("amount"))["s"] or ZERO
    undone = (
        rows.filter(type="reversal", reverses__type="payment").aggregate(s=Sum("amount"))["s"]
        or ZERO
    )
    return Decimal(paid - undone)


def case_recovery(case: Referral) -> dict[str, str]:
    """What the case recovered after the firm's fees: the payments on the account from the day
    it was referred (to the day it ended, if it did), less the reversals of payments in that
    time; the firm's contingency on them, its flat fee and the court costs it advanced (none is
    recorded yet); the net."""
    recovered = recovered_between(case.account_id, case.referred_on, case.withdrawn_on)
    firm = Firm.objects.filter(name=case.firm).first()
    got = schedule.recovery(
        recovered,
        percent=firm.contingency_percent if firm else ZERO,
        flat_fee=firm.flat_fee if firm else ZERO,
    )
    return {
        "recovered": f"{got.recovered:.2f}",
        "contingency_percent": f"{firm.contingency_percent if firm else ZERO:.2f}",
        "contingency": f"{got.contingency:.2f}",
        "flat_fee": f"{got.flat_fee:.2f}",
        "court_costs": f"{got.court_costs:.2f}",
        "fees": f"{got.fees:.2f}",
        "net": f"{got.net:.2f}",
    }


def settlement_json(s: Settlement, *, on: date) -> dict[str, Any]:
    """A settlement as `arrears settlement show --format json` and the API print it, with its
    installments tracked as of `on` (what is paid, due, missed)."""
    from arrears.legal.settlements import settlement_tracking

    tracked = settlement_tracking(s, on) if s.status in ("offered", "approved") else None
    installments = list(s.installments.order_by("line"))
    lines = tracked.lines if tracked else ()
    return {
        "settlement_id": s.pk,
        "case_id": s.case_id,
        "account_id": s.account.account_id,
        "amount": f"{s.amount:.2f}",
        "balance": f"{s.balance:.2f}",
        "status": s.status,
        "status_on": s.status_on.isoformat(),
        "offered_on": s.offered_on.isoformat(),
        "offered_by": s.offered_by,
        "needs_approval": s.needs_approval,
        "decided_by": s.decided_by or None,
        "decided_at": s.decided_at.isoformat() if s.decided_at else None,
        "reason": s.reason or None,
        "note": s.note,
        "paid": f"{(tracked.paid if tracked else s.paid):.2f}",
        "forgiven": _money(s.forgiven),
        "installments": [
            {
                "due_on": i.due_on.isoformat(),
                "amount": f"{i.amount:.2f}",
                **(
                    {"paid": f"{lines[n].paid:.2f}", "status": lines[n].status}
                    if n < len(lines)
                    else {}
                ),
            }
            for n, i in enumerate(installments)
        ],
    }


def case_settlements(case: Referral) -> list[Settlement]:
    return list(
        Settlement.objects.filter(case=case).select_related("account").order_by("-pk")[:100]
    )


def writeoffs_summary(account: Account) -> dict[str, Any]:
    """The account's write-offs apart from its balance: how much was written off, recovered
    after (each recovery a `WOR` charge its payment paid) and still written off."""
    offs = list(WriteOff.objects.filter(account=account).order_by("pk"))
    recoveries: dict[str, list[dict[str, str]]] = {w.txn_id: [] for w in offs}
    for txn_id, day, amount in (
        Transaction.objects.filter(account=account, type="charge", code="WOR")
        .order_by("id")
        .values_list("txn_id", "posted_on", "amount")
    ):
        parent = txn_id.rpartition("-r")[0]
        if parent in recoveries:
            recoveries[parent].append(
                {"txn_id": txn_id, "on": day.isoformat(), "amount": f"{amount:.2f}"}
            )
    written = sum((w.amount for w in offs), ZERO)
    recovered = sum((w.recovered for w in offs), ZERO)
    return {
        "account_id": account.account_id,
        "written_off": f"{written:.2f}",
        "recovered": f"{recovered:.2f}",
        "outstanding": f"{written - recovered:.2f}",
        "writeoffs": [
            {
                "txn_id": w.txn_id,
                "on": w.written_off_on.isoformat(),
                "amount": f"{w.amount:.2f}",
                "reason": w.reason,
                "made_by": w.made_by,
                "case_id": w.case_id,
                "recovered": f"{w.recovered:.2f}",
                "recoveries": recoveries[w.txn_id],
            }
            for w in offs
        ],
    }
