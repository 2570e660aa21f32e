"""A coordinator's payment plans, made with what open disputes hold left out.

Plans and disputes are parts side by side that never import each other; this module, above both,
hands `plans.services.plan_create` the disputes' holds (`disputes.selectors.disputed_amounts`) as
a callback. The CLI, the account page and the API create and renegotiate plans through here.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from arrears.disputes.selectors import disputed_amounts
from arrears.plans import services
from arrears.plans.models import Plan
from arrears.plans.services import InDispute


def in_dispute(account_pk: int, on: date) -> InDispute:
    """What the account's open disputes hold on `on`."""
    held = disputed_amounts([account_pk], on).get(account_pk)
    if held is None:
        return InDispute()
    return InDispute(whole=held.whole, charges=dict(held.charges), disputes=held.disputes)


def plan_create(**terms: Any) -> Plan:
    """`plans.services.plan_create` on the undisputed balance; see there."""
    return services.plan_create(in_dispute=in_dispute, **terms)


def plan_renegotiate(**terms: Any) -> Plan:
    """`plans.services.plan_renegotiate`, the new plan on the undisputed balance; see there."""
    return services.plan_renegotiate(in_dispute=in_dispute, **terms)
