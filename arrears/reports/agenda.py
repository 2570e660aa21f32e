"""The monthly meeting with a firm (issue 17, item 6): its agenda, read from the legal part, the
ledger and the cycle.

The agenda of a month for a firm lists:
- the firm's cases by status (open ones, and those that ended since the last meeting), each with
  what changed since the last meeting (its events), its balance now and what it was referred at;
- the hearings ahead (from the agenda's day, 60 days);
- the documents its case files lacked when sent (the referral checklist's `missing`);
- the accounts the policy recommended for referral that no one has referred yet, with why they
  wait (how long, what holds them);
- the settlements offered and waiting for approval;
- the month's recoveries per case and the firm's fees on them (its contingency on what was
  recovered in the month, its flat fee in the month a case was referred), and the net.

"Since the last meeting" is the day of the firm's latest meeting before this month (`Meeting`,
recorded with the minutes), or the month's first day when there was none.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from arrears.core.errors import ValidationError
from arrears.core.money import ZERO
from arrears.dunning.models import Action, Hold
from arrears.ledger.models import Account
from arrears.ledger.selectors import account_ledger, account_party_links
from arrears.legal.models import CASE_STATUSES, CaseEvent, Firm, Meeting, Referral, Settlement
from arrears.legal.schedule import recovery
from arrears.legal.selectors import recovered_between
from arrears.legal.services import firm_named
from arrears.legal.statuses import STATUSES

HEARINGS_AHEAD_DAYS = 60
# a recommendation older than this is not on the agenda (a year: the account has moved on)
RECOMMENDED_WITHIN_DAYS = 365


@dataclass(frozen=True)
class Month:
    first: date
    last: date

    @property
    def key(self) -> str:
        return f"{self.first:%Y-%m}"

    @classmethod
    def parse(cls, text: str) -> Month:
        try:
            first = date.fromisoformat(f"{text}-01")
        except ValueError:
            raise ValidationError(
                _("a month is YYYY-MM, not {month}"),
                code="month_invalid",
                month=text,
                field="month",
            ) from None
        return cls.of(first)

    @classmethod
    def of(cls, day: date) -> Month:
        first = day.replace(day=1)
        return cls(first, first.replace(day=calendar.monthrange(first.year, first.month)[1]))


def agenda(*, firm: str, month: Month, today: date) -> dict[str, Any]:
    """The agenda of `month`'s meeting with `firm`, as of `today` (or the month's last day, if
    the month is past), as JSON-ready data (the PDF, the workbook and the page print it)."""
    known = firm_named(firm)
    as_of = min(today, month.last)
    last = Meeting.objects.filter(firm=known.name, month__lt=month.key).order_by("-month").first()
    since = last.held_on if last else month.first
    cases = list(
        Referral.objects.select_related("account", "account__property")
        .filter(firm=known.name, referred_on__lte=as_of)
        .exclude(withdrawn_on__lt=since)
        .order_by("pk")
    )
    events = _events(cases, since, as_of)
    order = {s: n for n, s in enumerate(STATUSES)}
    rows = [_case(c, events.get(c.pk, []), as_of) for c in cases]
    rows.sort(key=lambda r: (order[r["status"]], r["case_id"]))
    by_status = {s: sum(1 for r in rows if r["status"] == s) for s in STATUSES}
    return {
        "firm": known.name,
        "kind": known.kind,
        "month": month.key,
        "as_of": as_of.isoformat(),
        "since": since.isoformat(),
        "last_meeting": last.held_on.isoformat() if last else None,
        "by_status": {s: n for s, n in by_status.items() if n},
        "cases": rows,
        "hearings": _hearings(cases, as_of),
        "documents_missing": [
            {"case_id": r["case_id"], "account_id": r["account_id"], "missing": r["missing"]}
            for r in rows
            if r["missing"] and r["ended_on"] is None
        ],
        "recommended_not_sent": _recommended(known, as_of),
        "settlements_to_approve": _settlements_waiting(cases, as_of),
        "recoveries": _recoveries(known, cases, month.first, as_of),
    }


def status_label(status: str) -> str:
    return str(CASE_STATUSES.get(status, status))


def _events(cases: list[Referral], since: date, as_of: date) -> dict[int, list[CaseEvent]]:
    """Each case's events of the days from the last meeting's (included: what was reported that
    day after the meeting is news) to `as_of`. An event's day is the day it happened, or was
    set for a hearing: a hearing set in April for May 12 is April's news."""
    out: dict[int, list[CaseEvent]] = {}
    rows = CaseEvent.objects.filter(
        case__in=[c.pk for c in cases], on__gte=since, on__lte=as_of
    ).order_by("on", "pk")
    for event in rows:
        out.setdefault(event.case_id, []).append(event)
    return out


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _case(case: Referral, events: list[CaseEvent], as_of: date) -> dict[str, Any]:
    account = case.account
    primary = next(
        (link.party.name for link in account_party_links(account) if link.role == "primary"), ""
    )
    balance = account_ledger(account_id=account.account_id, as_of=as_of, account=account).balance
    manifest = case.packet_manifest or {}
    titles = _item_titles()
    return {
        "case_id": case.pk,
        "account_id": account.account_id,
        "debtor": primary,
        "property": account.property.name if account.property else "",
        "status": case.status,
        "status_label": status_label(case.status),
        "status_on": case.status_on.isoformat() if case.status_on else None,
        "referred_on": case.referred_on.isoformat(),
        "balance_referred": _money(case.balance_referred),
        "balance": _money(balance),
        "index_number": case.index_number or None,
        "court": case.court or None,
        "hearing_on": case.hearing_on.isoformat() if case.hearing_on else None,
        "judgment_amount": _money(case.judgment_amount),
        "ended_on": case.withdrawn_on.isoformat() if case.withdrawn_on else None,
        "missing": [titles.get(m, m) for m in manifest.get("missing", [])],
        "changes": [
            {
                "on": e.on.isoformat(),
                "status": e.status,
                "status_label": status_label(e.status),
                "actor": e.actor,
                "note": e.note,
                **{k: v for k, v in e.detail.items() if isinstance(v, str)},
            }
            for e in events
        ],
    }


def _item_titles() -> dict[str, str]:
    """The referral checklists' items by key, as their titles (a case file's manifest names
    what it lacked by key)."""
    from arrears.legal.checklists import checklists

    language = get_language() or "en"
    return {i.key: i.title_in(language) for c in checklists() for i in c.items}


def _hearings(cases: list[Referral], as_of: date) -> list[dict[str, Any]]:
    until = as_of + timedelta(days=HEARINGS_AHEAD_DAYS)
    ahead = [
        c
        for c in cases
        if c.withdrawn_on is None and c.hearing_on is not None and as_of <= c.hearing_on <= until
    ]
    ahead.sort(key=lambda c: (c.hearing_on, c.pk))
    return [
        {
            "case_id": c.pk,
            "account_id": c.account.account_id,
            "hearing_on": c.hearing_on.isoformat() if c.hearing_on else None,
            "court": c.court or None,
            "index_number": c.index_number or None,
        }
        for c in ahead
    ]


def _settlements_waiting(cases: list[Referral], as_of: date) -> list[dict[str, Any]]:
    waiting = Settlement.objects.filter(
        case__in=[c.pk for c in cases], status="offered", needs_approval=True
    ).select_related("account")
    return [
        {
            "settlement_id": s.pk,
            "case_id": s.case_id,
            "account_id": s.account.account_id,
            "amount": f"{s.amount:.2f}",
            "balance": f"{s.balance:.2f}",
            "offered_on": s.offered_on.isoformat(),
            "offered_by": s.offered_by,
        }
        for s in waiting.order_by("offered_on", "pk")
        if s.offered_on <= as_of
    ]


def _recoveries(firm: Firm, cases: list[Referral], first: date, as_of: date) -> dict[str, Any]:
    """The month's recoveries per case (payments posted from the month's first day, and from
    the referral, to `as_of`, less the reversals of payments then) and the firm's fees on
    them; cases that recovered nothing and were not referred in the month are left out."""
    lines = []
    totals = {"recovered": ZERO, "fees": ZERO, "net": ZERO}
    for case in cases:
        start = max(first, case.referred_on)
        end = min(as_of, case.withdrawn_on) if case.withdrawn_on else as_of
        recovered = recovered_between(case.account_id, start, end)
        referred_now = first <= case.referred_on <= as_of
        if recovered == ZERO and not referred_now:
            continue
        got = recovery(
            recovered,
            percent=firm.contingency_percent,
            flat_fee=firm.flat_fee if referred_now else ZERO,
        )
        lines.append(
            {
                "case_id": case.pk,
                "account_id": case.account.account_id,
                "recovered": f"{got.recovered:.2f}",
                "fees": f"{got.fees:.2f}",
                "net": f"{got.net:.2f}",
            }
        )
        totals["recovered"] += got.recovered
        totals["fees"] += got.fees
        totals["net"] += got.net
    return {"cases": lines, **{k: f"{v:.2f}" for k, v in totals.items()}}


def _recommended(firm: Firm, as_of: date) -> list[dict[str, Any]]:
    """The accounts the policy recommended for referral (a step done by `as_of`) with no case
    open at any firm, still owing, in the firm's jurisdictions: each with why it waits."""
    latest: dict[int, Action] = {}
    for action in (
        Action.objects.filter(
            action__in=["recommend_referral", "referral"],
            status="done",
            run_on__lte=as_of,
            run_on__gt=as_of - timedelta(days=RECOMMENDED_WITHIN_DAYS),
        )
        .select_related("account", "account__property")
        .order_by("run_on", "pk")
    ):
        latest[action.account_id] = action
    if not latest:
        return []
    referred = set(
        Referral.objects.filter(account_id__in=list(latest), withdrawn_on__isnull=True).values_list(
            "account_id", flat=True
        )
    )
    held = {
        h.account_id: h.reason
        for h in Hold.objects.filter(account_id__in=list(latest), released_on__isnull=True)
    }
    out = []
    for account_pk, action in sorted(latest.items(), key=lambda kv: kv[1].run_on):
        account: Account = action.account
        state = account.property.state.upper() if account.property else ""
        if account_pk in referred or (firm.jurisdictions and state not in firm.jurisdictions):
            continue
        balance = account_ledger(
            account_id=account.account_id, as_of=as_of, account=account
        ).balance
        if balance <= 0:
            continue
        waiting = (as_of - action.run_on).days
        why = [f"recommended {waiting} days ago by {action.step}; no one has decided"]
        if account_pk in held:
            why.append(f"held: {held[account_pk]}")
        out.append(
            {
                "account_id": account.account_id,
                "property": account.property.name if account.property else "",
                "state": state,
                "balance": f"{balance:.2f}",
                "recommended_on": action.run_on.isoformat(),
                "step": action.step,
                "why": "; ".join(why),
            }
        )
    return out
