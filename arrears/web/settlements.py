"""What a case's page shows of its money (docs/legal.md, "Settlements and write-offs"): its
settlements, its net recovery and which of their forms the user may use
(`views_settlements` posts them)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import pgettext_lazy

from arrears.access.selectors import can
from arrears.core.dates import today
from arrears.legal.models import Referral
from arrears.legal.selectors import case_recovery, case_settlements, settlement_json

# The offer form's installment rows (the act takes up to 36; the page offers a few).
INSTALLMENT_ROWS = 4

STATUS_WORDS = {
    "offered": pgettext_lazy("a settlement's state", "offered, waiting for approval"),
    "approved": pgettext_lazy("a settlement's state", "approved"),
    "rejected": pgettext_lazy("a settlement's state", "rejected"),
    "paid": pgettext_lazy("a settlement's state", "paid"),
    "broken": pgettext_lazy("a settlement's state", "broken"),
}
# an installment as `settlement show` tracks it (arrears.legal.schedule.track)
LINE_WORDS = {
    "paid": pgettext_lazy("a settlement installment's state", "paid"),
    "due": pgettext_lazy("a settlement installment's state", "due"),
    "missed": pgettext_lazy("a settlement installment's state", "missed"),
    "ahead": pgettext_lazy("a settlement installment's state", "ahead"),
}


def settlement_context(
    request: HttpRequest, case: Referral, offer: dict[str, str]
) -> dict[str, Any]:
    """What a case's page shows of its money: its settlements (as `settlement show` prints
    them, tracked as of today), its net recovery, and which of the forms the user may use (the
    offer form as typed, when it comes back with a mistake)."""
    on = today()
    rows = [settlement_json(s, on=on) for s in case_settlements(case)]
    for row in rows:
        row["status_words"] = STATUS_WORDS.get(row["status"], row["status"])
        for line in row["installments"]:
            line["status_words"] = LINE_WORDS.get(line.get("status", ""), "")
    in_force = any(s["status"] in ("offered", "approved") for s in rows)
    return {
        "settlements": rows,
        "recovery": case_recovery(case),
        "may_offer": can(request.user, "settlement.offer") and case.is_open and not in_force,
        "may_decide": can(request.user, "settlement.approve"),
        "offer": offer,
        "offer_rows": [
            (n, offer.get(f"due_{n}", ""), offer.get(f"pay_{n}", ""))
            for n in range(1, INSTALLMENT_ROWS + 1)
        ],
    }
