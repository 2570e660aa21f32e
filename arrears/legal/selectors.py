"""Reads of the legal part: the open cases that hold an account's collection, one case as the
CLI's and the API's JSON, a firm's cases."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Q

from arrears.legal.ics import HearingDate
from arrears.legal.models import CaseEvent, Firm, Referral


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
