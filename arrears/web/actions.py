"""What the account page's action forms need: the user's permissions and each form's choices,
each in words (a call's outcomes, a hold's reasons, the channels, the notices by their titles).

Kept apart from the views so that `views._account_context` can merge it without importing the
action views (which import `views`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from arrears.access.selectors import can, firm_names
from arrears.core.dates import today
from arrears.correspondence.catalog import CATALOG, language_for
from arrears.disputes.models import CHANNELS as DISPUTE_CHANNELS
from arrears.dunning.contact import CALL_OUTCOMES
from arrears.dunning.models import Hold
from arrears.dunning.notices import NOTICE_CHANNELS
from arrears.dunning.selectors import NoticeChoices, notice_choices
from arrears.moveout.services import DEDUCTIONS
from arrears.plans.models import CHANNELS as PROMISE_CHANNELS
from arrears.web.labels import label
from arrears.web.standing import hold_word


@dataclass(frozen=True)
class NoticeOption:
    value: str  # "template|party_id", what the notice form posts
    title: str
    statutory: bool


def notice_templates(account: Any, choices: NoticeChoices | None = None) -> list[str]:
    """The templates a notice may be sent with to this account, for the account page's notice
    form: its policy's notice steps (`notice_send` accepts these and no others)."""
    if choices is None:
        choices = notice_choices(account=account, on=today())
    return list(choices.templates)


def notice_options(choices: NoticeChoices, parties: list[Any]) -> list[tuple[Any, list[Any]]]:
    """The notices each party may be sent by hand: the policy's notice steps for the party's
    role (a tenant's notice to the tenants, a guarantor's to the guarantor), by their titles."""
    language = language_for(get_language() or "en")
    out = []
    for party in parties:
        options = []
        for template in choices.templates:
            step = choices.steps[template]
            if party.role not in step.audience:
                continue
            spec = CATALOG.get(template)
            title = spec.title(language) if spec else template
            way = channel_words().get(step.channel or "", step.channel or "")
            options.append(
                NoticeOption(
                    f"{template}|{party.party_id}",
                    f"{title} ({way})",
                    bool(spec and spec.statutory),
                )
            )
        if options:
            out.append((party, options))
    return out


def outcome_words() -> dict[str, str]:
    return {
        "no-answer": _("No answer"),
        "left-message": _("Left a message"),
        "wrong-number": _("Wrong number"),
        "promise": _("Promised to pay"),
        "dispute": _("Disputes the debt"),
        "refused": _("Refused to pay"),
        "paid": _("Says it is paid"),
    }


def channel_words() -> dict[str, str]:
    return {
        "phone": _("phone"),
        "email": _("email"),
        "letter": _("letter"),
        "certified_letter": _("certified letter"),
        "in_person": _("in person"),
        "portal": _("portal"),
        "sms": _("text message"),
        "attorney": _("through an attorney"),
    }


def role_words() -> dict[str, str]:
    return {"primary": _("tenant"), "co_obligor": _("co-tenant"), "guarantor": _("guarantor")}


DEDUCTION_ROWS = 4  # the deductions a disposition form offers at once


def action_context(
    user: Any, account: Any = None, choices: NoticeChoices | None = None, parties: Any = ()
) -> dict[str, Any]:
    notices = can(user, "notice.send")
    if notices and account is not None and choices is None:
        choices = notice_choices(account=account, on=today())
    refer = can(user, "referral.make")
    channels = channel_words()
    return {
        "notice_templates": list(choices.templates) if notices and choices else [],
        "notice_options": notice_options(choices, list(parties)) if notices and choices else [],
        "can_call": can(user, "call.log"),
        "can_promise": can(user, "promise.record"),
        "can_plan": can(user, "plan.create"),
        "can_dispute": can(user, "dispute.open"),
        "can_statement": can(user, "statement.send"),
        "can_notice": notices,
        "can_preview": can(user, "notice.preview"),
        "can_refer": refer,
        "firms": firm_names() if refer else [],
        "call_outcomes": [(o, outcome_words().get(o, o)) for o in CALL_OUTCOMES],
        "hold_reasons": [(r, hold_word(r)) for r in Hold.Reason.values],
        "promise_channels": [(c, channels.get(c, c)) for c in PROMISE_CHANNELS],
        "dispute_channels": [(c, channels.get(c, c)) for c in DISPUTE_CHANNELS],
        "notice_channels": [(c, channels.get(c, c)) for c in NOTICE_CHANNELS],
        "roles": role_words(),
        # a move-out, and the deposit's disposition once moved out (arrears.moveout)
        "can_moveout": account is not None
        and account.closed_on is None
        and can(user, "moveout.record"),
        "can_dispose": account is not None
        and account.closed_on is not None
        and can(user, "deposit.dispose"),
        "can_state": can(user, "deposit.statement"),
        # a payment received, posted once per reference or per drawn form (views_payments)
        "can_pay": account is not None and can(user, "payment.post"),
        "payment_token": uuid.uuid4().hex,
        # a write-off to bad debt (arrears.legal.settlements): a controller or an admin
        "can_writeoff": account is not None and can(user, "writeoff.post"),
        "deduction_codes": [(code, label(code)) for code in DEDUCTIONS],
        "deduction_rows": range(1, DEDUCTION_ROWS + 1),
    }
