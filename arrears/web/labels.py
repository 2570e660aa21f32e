"""How the book's codes read on the pages: `label(code)` in the reader's language.

The book stores codes (`dispute`, `no-answer`, `guarantor`, `certified_letter`); a page shows
each as words. The labels of the models' choices are their own (`Hold.Reason`, `AccountParty.Role`,
`Account.Kind`, `Transaction.Type`, `Dispute.Outcome`, the roles of `Profile`); the vocabularies
that are no model's choices (channels, call outcomes, the worklist's kinds, kinds of mail, the
audit's channels, a policy's account state) are here. A code with no label reads as itself.

`label` is a filter of both template engines (a builtin of Django's, a filter of the Jinja
environment's).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django import template
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from arrears.access.models import ROLE_LABELS
from arrears.disputes.models import Dispute
from arrears.dunning.models import Hold
from arrears.ledger.models import Account, AccountParty, Transaction

register = template.Library()

OTHER_LABELS: dict[str, Promise] = {
    # a guard's rule that is a word (the others are codes: `channel:no email address`)
    "rule:referred": _("referred to a firm"),
    # the aging's first bucket
    "current": _("current"),
    # what a search found an account by
    "account": _("account"),
    "unit": _("unit"),
    "party": _("party"),
    "open item": _("open item"),
    "rent": _("rent"),
    "entry": _("entry"),
    # the channels of calls, promises, disputes and notices
    "phone": _("phone"),
    "email": _("email"),
    "letter": _("letter"),
    "certified_letter": _("certified letter"),
    "in_person": _("in person"),
    "portal": _("portal"),
    "sms": _("text message"),
    "call": _("call"),
    "text": _("text message"),
    # call outcomes
    "no-answer": _("no answer"),
    "left-message": _("left a message"),
    "wrong-number": _("wrong number"),
    "promise": _("promise"),
    "refused": _("refused to pay"),
    "paid": _("says paid"),
    # the worklist's kinds of work
    "new_delinquency": _("new delinquency"),
    "deadline": _("deadline"),
    "referral": _("referral"),
    "broken_promise": _("broken promise"),
    "plan_broken": _("plan broken"),
    "dispute_overdue": _("dispute overdue"),
    "email_failed": _("email not delivered"),
    "deposit_due": _("deposit statement due"),
    "refund_due": _("refund due"),
    "hearing": _("hearing ahead"),
    # what is kept from a deposit (arrears.moveout.services.DEDUCTIONS; rent and other above)
    "late_fee": _("late fees"),
    "damage": _("damage"),
    "cleaning": _("cleaning"),
    "utilities": _("utilities"),
    "moving": _("moving and storage"),
    # kinds of mail received
    "payment_claim": _("payment claim"),
    "question": _("question"),
    "bounce": _("bounce"),
    "auto_reply": _("automatic reply"),
    "other": _("other"),
    # the audit log's channels
    "web": _("web"),
    "api": _("API"),
    "cli": _("command line"),
    "system": _("system"),
    # a step's action (a policy's, an account's actions)
    "notice": _("notice"),
    "fee": _("late fee"),
    "recommend_referral": _("referral recommended"),
    "hold": _("hold"),
    # an action's status, where the word alone would read as another code's
    "status:done": _("done"),
    "status:queued": _("queued"),
    "status:task": _("to do"),
    "status:refused": pgettext_lazy("an action's status", "refused"),
    "status:closed": _("closed"),
    "status:failed": _("failed"),
    # a promise's, a plan's and an installment's state
    "promise:open": pgettext_lazy("a promise's state", "open"),
    "promise:kept": pgettext_lazy("a promise's state", "kept"),
    "promise:broken": pgettext_lazy("a promise's state", "broken"),
    "plan:active": pgettext_lazy("a plan's state", "active"),
    "plan:completed": pgettext_lazy("a plan's state", "completed"),
    "plan:broken": pgettext_lazy("a plan's state", "broken"),
    "plan:cancelled": pgettext_lazy("a plan's state", "cancelled"),
    "plan:superseded": pgettext_lazy("a plan's state", "superseded"),
    "installment:paid": pgettext_lazy("an installment's state", "paid"),
    "installment:missed": pgettext_lazy("an installment's state", "missed"),
    "installment:partly_paid": pgettext_lazy("an installment's state", "partly paid"),
    "installment:late": pgettext_lazy("an installment's state", "late"),
    "installment:due": pgettext_lazy("an installment's state", "due"),
    # a refund's state and where its credit came from (arrears.moveout.refunds)
    "refund:proposed": pgettext_lazy("a refund's state", "to approve"),
    "refund:approved": pgettext_lazy("a refund's state", "approved, not yet paid"),
    "refund:rejected": pgettext_lazy("a refund's state", "rejected"),
    "refund:exported": pgettext_lazy("a refund's state", "sent to payables"),
    "origin:deposit": pgettext_lazy("a refund's origin", "deposit"),
    "origin:credit": pgettext_lazy("a refund's origin", "credit"),
    "origin:overpayment": pgettext_lazy("a refund's origin", "overpayment"),
    # how often a plan falls due
    "weekly": _("weekly"),
    "biweekly": _("every two weeks"),
    "monthly": _("monthly"),
    "dates": _("on set dates"),
    # a policy's account state
    "active": _("active"),
    "moved_out": _("moved out"),
    "any": _("any"),
}


@lru_cache(maxsize=1)
def _labels() -> dict[str, Promise | str]:
    labels: dict[str, Promise | str] = dict(OTHER_LABELS)
    for choices in (
        Hold.Reason,
        AccountParty.Role,
        Account.Kind,
        Transaction.Type,
        Dispute.Outcome,
        Dispute.Status,
    ):
        labels.update({str(value): label for value, label in choices.choices})
    labels.update(ROLE_LABELS)
    labels["attorney"] = _("attorney")  # a role and a dispute's channel: one word
    return labels


@register.filter
def label(code: object, kind: str = "") -> str:
    """The code's words in the active language (the code itself where it has none); a list's
    codes each so, joined by commas. `kind` names the vocabulary where a code is in two with two
    meanings (`refused`: a call's outcome, an action's status)."""
    if isinstance(code, list | tuple):
        return ", ".join(label(c, kind) for c in code)
    text = "" if code is None else str(code)
    found = _labels().get(f"{kind}:{text}") if kind else None
    found = _labels().get(text) if found is None else found
    return text if found is None else str(found)


@register.filter
def next_step_words(detail: Any) -> str:
    """A worklist line's next step (`worklist_detail.Detail`) by its letter's title in the
    active language, else what it does."""
    from django.utils.translation import get_language

    from arrears.web.standing import step_words

    return step_words(
        detail.next_template, detail.next_action, detail.next_step, get_language() or "en"
    )
