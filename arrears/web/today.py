"""What the Today page shows: the day (`selectors.day_get`), the worklist's tabs with their
counts, the lines of the tab asked for (`?tab=`, all of them without one), and what the line
forms offer. Kept apart from the views so that the worklist's own views (`views_worklist`) render
the same page with an error."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _

from arrears.access.selectors import can
from arrears.core.dates import today
from arrears.dunning.contact import CALL_OUTCOMES
from arrears.dunning.models import Hold
from arrears.dunning.readiness import referral_missing
from arrears.dunning.selectors import run_status_get
from arrears.dunning.workline import TABS
from arrears.ledger.models import Account
from arrears.web.scopes import today_scoped
from arrears.web.selectors import day_get, firms_known

# Lines a page: each carries its forms, and a long list is worked from the top.
LINES_A_PAGE = 50

# A hold placed from the worklist is a person's decision about the account: the statutory
# holds (bankruptcy, military, deceased…) keep their own reasons; "dispute" is opened as one.
LINE_HOLD_REASONS = tuple(r for r in Hold.Reason.values if r not in ("plan", "dispute"))


def today_context(request: HttpRequest, on: date) -> dict[str, Any]:
    scoped = today_scoped(request, day_get(on=on, user=request.user))  # whose lines (assigned)
    day = scoped["day"]
    counts = Counter(w.tab for w in day.work)
    tab = request.GET.get("tab", "")
    if tab not in {key for key, _label in TABS}:
        tab = ""
    tabs = [
        {"key": key, "label": _(label), "count": counts[key], "current": key == tab}
        for key, label in TABS
        # deposits, refunds and hearings come with a later part of the book: their tabs, when
        # they have lines
        if key not in ("deposits", "refunds", "hearings") or counts[key]
    ]
    lines = [w for w in day.work if not tab or w.tab == tab]
    pages = max(1, -(-len(lines) // LINES_A_PAGE))
    page = request.GET.get("page", "")
    number = min(max(int(page), 1), pages) if page.isdigit() else 1
    user = request.user
    shown = lines[(number - 1) * LINES_A_PAGE : number * LINES_A_PAGE]
    return {
        **scoped,
        "is_today": day.on == today(),
        "tab": tab,
        "tabs": tabs,
        "lines": shown,
        "line_count": len(lines),
        "page": number,
        "pages": pages,
        "first_line": (number - 1) * LINES_A_PAGE + 1,
        "last_line": min(number * LINES_A_PAGE, len(lines)),
        "back": request.get_full_path(),
        "can_act": can(user, "call.log") and day.on == today(),
        "can_refer": can(user, "referral.make"),
        "can_hold": can(user, "hold.place"),
        "can_snooze": can(user, "worklist.snooze"),
        "call_outcomes": CALL_OUTCOMES,
        "hold_reasons": LINE_HOLD_REASONS,
        "firms": firms_known() if can(user, "referral.make") else [],
        # what each referral line's case file lacks (its Refer form asks the reason to send it)
        "referral_missing": _referral_missing(shown) if can(user, "referral.make") else {},
        "tomorrow": today() + timedelta(days=1),
        # the latest daily run, how far it has got (its chunks, in-process or on the workers),
        # to whoever may run it: it is the whole book's
        "run": run_status_get() if can(user, "run.real") else None,
    }


def _referral_missing(lines: list[Any]) -> dict[str, list[str]]:
    """What the case file of each referral line of the page lacks (one read for them all)."""
    ids = {w.account_id for w in lines if w.kind == "referral"}
    if not ids:
        return {}
    accounts = list(Account.objects.select_related("property").filter(account_id__in=ids))
    return referral_missing(accounts)
