"""What the account page's action forms need: the user's permissions and each form's choices.

Kept apart from the views so that `views._account_context` can merge it without importing the
action views (which import `views`)."""

from __future__ import annotations

from typing import Any

from arrears.access.selectors import can
from arrears.core.dates import today
from arrears.disputes.models import CHANNELS as DISPUTE_CHANNELS
from arrears.dunning.contact import CALL_OUTCOMES
from arrears.dunning.notices import NOTICE_CHANNELS
from arrears.dunning.selectors import NoticeChoices, notice_choices
from arrears.plans.models import CHANNELS as PROMISE_CHANNELS


def notice_templates(account: Any, choices: NoticeChoices | None = None) -> list[str]:
    """The templates a notice may be sent with to this account, for the account page's notice
    form: its policy's notice steps (`notice_send` accepts these and no others)."""
    if choices is None:
        choices = notice_choices(account=account, on=today())
    return list(choices.templates)


def action_context(
    user: Any, account: Any = None, choices: NoticeChoices | None = None
) -> dict[str, Any]:
    notices = can(user, "notice.send")
    return {
        "notice_templates": (
            notice_templates(account, choices) if notices and account is not None else []
        ),
        "can_call": can(user, "call.log"),
        "can_promise": can(user, "promise.record"),
        "can_plan": can(user, "plan.create"),
        "can_dispute": can(user, "dispute.open"),
        "can_statement": can(user, "statement.send"),
        "can_notice": notices,
        "can_preview": can(user, "notice.preview"),
        "call_outcomes": CALL_OUTCOMES,
        "promise_channels": PROMISE_CHANNELS,
        "dispute_channels": DISPUTE_CHANNELS,
        "notice_channels": NOTICE_CHANNELS,
    }
