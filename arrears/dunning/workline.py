"""One line of the coordinator's worklist before it is read out (`worklist.worklist`): what it
is about and why, in words a person reads (`why`, a message to translate, with its `facts`), and
the plain text the cycle wrote (`detail`).

`ref` names the line's reason in its present form (a task's or an action's idempotency key, a
promise, a delinquency's start):
a line dismissed stays away while its `ref` is the same, and comes back when the reason recurs
in a new form (a new task, a new delinquency).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


def gettext_noop(message: str) -> str:
    """Marks a message for translation, translated where it is read (Django's own asks for the
    settings, and the command line reads the kinds below before it sets Django up)."""
    return message


# The tabs of the day, in order, and the kinds of line each shows.
TABS: tuple[tuple[str, str], ...] = (
    ("calls", gettext_noop("Calls to make")),
    ("notices", gettext_noop("Notices expiring")),
    ("promises", gettext_noop("Promises due")),
    ("plans", gettext_noop("Plans breaking")),
    ("referrals", gettext_noop("Referrals to decide")),
    # a referred account's hearing within the week: the firm may need the coordinator (a
    # witness, a ledger brought up to date), and the account stays on the list for it
    ("hearings", gettext_noop("Hearings ahead")),
    ("disputes", gettext_noop("Disputes ageing")),
    ("deposits", gettext_noop("Deposits due")),
    # Refunds have a tab of their own rather than sharing "Deposits due": a deposit's line is the
    # coordinator's to do (write the itemized statement), a refund's is a controller's (approve it,
    # send it to payables), and most refunds are not of deposits (overpayments, a student's aid).
    ("refunds", gettext_noop("Refunds due")),
    ("mail", gettext_noop("Mail to answer")),
)
TAB_OF = {
    "call": "calls",
    "text": "calls",
    "new_delinquency": "calls",
    "deadline": "notices",
    "broken_promise": "promises",
    "plan_broken": "plans",
    "referral": "referrals",
    "hearing": "hearings",
    "dispute_overdue": "disputes",
    "deposit_due": "deposits",
    "refund_due": "refunds",
    "email": "mail",
    "email_failed": "mail",
}


@dataclass(frozen=True)
class Line:
    account_pk: int
    kind: str
    detail: str  # as the cycle words it (kept in the JSON as `detail`)
    party_id: str | None = None
    action_id: int | None = None
    ref: str = ""
    why: str = ""  # a message id (English), translated when read; {name} fields from `facts`
    facts: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, raw: tuple[int, str, str, str | None, int | None]) -> Line:
        """A line given as the older tuple (account pk, kind, reason, party, action): its ref is
        its text (a new message changes it), its words the kind's with the text."""
        pk, kind, detail, party, action = raw
        digest = hashlib.sha256(detail.encode()).hexdigest()[:16]
        why = WHY.get(kind, gettext_noop("{detail}"))
        return cls(pk, kind, detail, party, action, f"text:{digest}", why, (("detail", detail),))


# The words of each kind of line, for a person: translated where the line is read.
WHY = {
    "email": gettext_noop("Answer the tenant's mail: {detail}"),
    "email_failed": gettext_noop("An email did not reach the tenant: {detail}"),
}
