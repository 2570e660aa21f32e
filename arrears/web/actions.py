"""What the account page's action forms need: the user's permissions and each form's choices.

Kept apart from the views so that `views._account_context` can merge it without importing the
action views (which import `views`)."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache

from arrears.access.selectors import can
from arrears.correspondence.services import template_names
from arrears.disputes.models import CHANNELS as DISPUTE_CHANNELS
from arrears.dunning.contact import CALL_OUTCOMES
from arrears.dunning.notices import NOTICE_CHANNELS
from arrears.plans.models import CHANNELS as PROMISE_CHANNELS

NAMES_SECONDS = 60


def notice_templates() -> list[str]:
    """The names of the templates a notice may be sent with (built in and the company's), for the
    account page's notice form. Kept a minute in this process (the page is read all day, a new
    company template is rare); sending checks the name against the book itself."""
    names: list[str] | None = cache.get("web:notice-templates")
    if names is None:
        names = sorted({name for name, _, _ in template_names()})
        cache.set("web:notice-templates", names, NAMES_SECONDS)
    return names


def action_context(user: Any) -> dict[str, Any]:
    notices = can(user, "notice.send")
    return {
        "notice_templates": notice_templates() if notices else [],
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
