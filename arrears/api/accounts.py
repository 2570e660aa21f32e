"""Routes of one account: the account, its ledger, timeline and holds; notes, holds, referrals."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from arrears.access import acts
from arrears.access.selectors import account_parties, accounts_visible, authorize
from arrears.api.common import ERRORS, by, day, event_out
from arrears.api.schemas import (
    AccountDetailOut,
    AccountOut,
    EventOut,
    HoldIn,
    HoldOut,
    LedgerOut,
    NoteIn,
    ReferralIn,
    ReferralOut,
)
from arrears.core.money import fmt
from arrears.dunning.models import Hold
from arrears.dunning.selectors import holds_list, timeline_list
from arrears.ledger.models import Account
from arrears.ledger.selectors import account_ledger
from arrears.legal.selectors import referral_json

router = Router(tags=["accounts"])


def _account_out(a: Account) -> dict[str, Any]:
    return {
        "account_id": a.account_id,
        "property_id": a.property.property_id if a.property else "",
        "unit": a.unit,
        "kind": a.kind,
        "opened_on": a.opened_on,
        "closed_on": a.closed_on,
        "currency": a.currency,
        "rent": fmt(a.rent) if a.rent is not None else None,
    }


def _hold_out(h: Hold) -> dict[str, Any]:
    return {
        "id": h.pk,
        "reason": h.reason,
        "party_id": h.party.party_id if h.party else None,
        "placed_on": h.placed_on,
        "until": h.until,
        "note": h.note,
        "placed_by": h.placed_by,
        "released_on": h.released_on,
        "released_by": h.released_by,
    }


@router.get("/accounts", response={200: list[AccountOut], **ERRORS})
def accounts_list(
    request: HttpRequest,
    property_id: str | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=10_000_000),
) -> Any:
    """The accounts the caller may see, by account id; `property_id` narrows to one property."""
    authorize(request.user, "account.view")
    rows = accounts_visible(request.user).select_related("property").order_by("account_id")
    if property_id:
        rows = rows.filter(property__property_id=property_id)
    return [_account_out(a) for a in rows[offset : offset + limit]]


@router.get("/accounts/{account_id}", response={200: AccountDetailOut, **ERRORS})
def account_detail(request: HttpRequest, account_id: str, as_of: date | None = None) -> Any:
    """An account with its parties (roles, contact points, consent) and its balance by bucket."""
    account = authorize(request.user, "account.view", account_id)
    assert account is not None
    ledger = account_ledger(account_id=account.account_id, as_of=day(as_of))
    labels = ledger.buckets.labels
    return {
        **_account_out(account),
        "parties": [p.__dict__ for p in account_parties(account)],
        "balance": fmt(ledger.balance),
        "credit": fmt(ledger.aged.credit),
        "buckets": {k: fmt(v) for k, v in zip(labels, ledger.aged.buckets, strict=True)},
    }


@router.get("/accounts/{account_id}/ledger", response={200: LedgerOut, **ERRORS})
def account_ledger_get(
    request: HttpRequest,
    account_id: str,
    as_of: date | None = None,
    limit: int = Query(500, ge=1, le=5000),
    offset: int = Query(0, ge=0, le=10_000_000),
) -> Any:
    """The ledger with its running balance, oldest first; `limit`/`offset` page through it."""
    authorize(request.user, "account.view", account_id)
    ledger = account_ledger(account_id=account_id, as_of=day(as_of))

    def money(v: Any) -> str | None:
        return fmt(v) if v is not None else None

    lines = [
        {
            "txn_id": x.txn_id,
            "posted_on": x.posted_on,
            "type": x.type,
            "code": x.code,
            "amount": fmt(x.amount),
            "due_on": x.due_on,
            "balance": fmt(x.balance),
            "reference": x.reference,
            "memo": x.memo,
            "applies_to": x.applies_to,
            "reverses": x.reverses,
            "open_amount": money(x.open_amount),
            "unapplied": money(x.unapplied),
        }
        for x in ledger.lines[offset : offset + limit]
    ]
    return {
        "account_id": account_id,
        "as_of": ledger.as_of,
        "balance": fmt(ledger.balance),
        "count": len(ledger.lines),
        "lines": lines,
    }


@router.get("/accounts/{account_id}/timeline", response={200: list[EventOut], **ERRORS})
def account_timeline(request: HttpRequest, account_id: str) -> Any:
    """Everything that happened to the account, oldest first."""
    authorize(request.user, "account.view", account_id)
    return [event_out(e) for e in timeline_list(account_id=account_id)]


@router.get("/accounts/{account_id}/holds", response={200: list[HoldOut], **ERRORS})
def account_holds(request: HttpRequest, account_id: str) -> Any:
    """The account's holds, active and released."""
    authorize(request.user, "account.view", account_id)
    return [_hold_out(h) for h in holds_list(account_id=account_id)]


@router.post("/accounts/{account_id}/notes", response={201: EventOut, **ERRORS})
def account_note(request: HttpRequest, account_id: str, body: NoteIn) -> Any:
    """Add a note to the account's timeline."""
    event = acts.note_add(by=by(request), account_id=account_id, text=body.text)
    return Status(201, event_out(event))


@router.post("/accounts/{account_id}/holds", response={201: HoldOut, **ERRORS})
def account_hold_place(request: HttpRequest, account_id: str, body: HoldIn) -> Any:
    """Place a hold (on one party with `party_id`); the compliance guard refuses what it stops."""
    hold = acts.hold_place(
        by=by(request),
        account_id=account_id,
        reason=body.reason,
        until=day(body.until) if body.until else None,
        party_id=body.party_id or None,
        note=body.note,
    )
    return Status(201, _hold_out(Hold.objects.select_related("party").get(pk=hold.pk)))


@router.post("/accounts/{account_id}/holds/{hold_id}/release", response={200: HoldOut, **ERRORS})
def account_hold_release(request: HttpRequest, account_id: str, hold_id: int) -> Any:
    """Release a hold; it stays on record."""
    hold = acts.hold_release(by=by(request), account_id=account_id, hold_id=hold_id)
    return _hold_out(Hold.objects.select_related("party").get(pk=hold.pk))


@router.post("/accounts/{account_id}/referrals", response={201: ReferralOut, **ERRORS})
def account_refer(request: HttpRequest, account_id: str, body: ReferralIn) -> Any:
    """Refer the account to a law firm or an agency: the case opens, its case file is built
    (`arrears refer --format json`'s object), and the firm's users then see it."""
    referral = acts.referral_make(
        by=by(request),
        account_id=account_id,
        firm=body.firm,
        note=body.note,
        override=body.override,
    )
    return Status(
        201,
        {
            **referral_json(referral),
            "id": referral.pk,
            "account_id": referral.account.account_id,
            "referred_on": referral.referred_on,
            "referred_by": referral.referred_by,
            "status": referral.status,
        },
    )


@router.get("/accounts/{account_id}/referrals/checklist", response={200: dict[str, Any], **ERRORS})
def account_refer_checklist(request: HttpRequest, account_id: str, firm: str = "") -> Any:
    """The account's referral checklist: each item, whether it applies, what holds it, what is
    missing (`arrears refer ACCOUNT --check --format json`'s object)."""
    return acts.referral_checklist(actor=request.user, account_id=account_id, firm=firm)
