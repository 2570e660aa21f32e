"""The demo's report subscriptions: the controller gets the balances over 60 days on the 1st of
each month, the coordinator a daily review each morning, and a property manager a weekly digest
of the two buildings he manages, each as they would read it (his holds his buildings only). Made
once, through the same act as `arrears subscription add`; `arrears subscription send` (or
`arrears run --subscriptions`, with EMAIL_URL set) sends them.

The daily review ("daily") and the manager's digest ("manager-digest") are reports of their own
when the registry has them; until then the coordinator's is the metrics of the day before and
the manager's the balances over 60 days.
"""

from __future__ import annotations

import secrets

from arrears.access.acting import By
from arrears.access.acts_subscriptions import subscription_add
from arrears.access.services import SystemActor, user_add
from arrears.reports import registry
from arrears.reports.models import Subscription

MANAGER = "sam.reed"
MANAGED = ("MAR", "FUL")  # The Marlowe and Fulton Commons (arrears.demo.places)


def _report(wanted: str, fallback: str) -> str:
    return wanted if wanted in registry.load() else fallback


def demo_subscriptions(*, coordinator: str, controller: str, login: str) -> list[str]:
    """Subscribe the demo's controller, coordinator (existing users) and a manager made here,
    once; what was done, a line each (nothing when the book has subscriptions)."""
    from django.contrib.auth import get_user_model

    if Subscription.objects.exists():
        return []
    by = By(SystemActor(login), "system")
    done = []
    if not get_user_model().objects.filter(username=MANAGER).exists():
        # No one signs in as the manager: his password is random and not kept.
        user_add(
            username=MANAGER,
            password=secrets.token_urlsafe(24),
            role="manager",
            properties=MANAGED,
            email=f"{MANAGER}@example.org",  # RFC 2606: a domain that is no one's
            actor=by.actor,
            via="system",
        )
        done.append(f"user {MANAGER} added (manager of {', '.join(MANAGED)})")
    wanted = (
        (controller, "over-60", "monthly:1"),
        (coordinator, _report("daily", "metrics"), "daily"),
        (MANAGER, _report("manager-digest", "over-60"), "weekly:mon"),
    )
    for user, report, every in wanted:
        made = subscription_add(by=by, report=report, recipients=[user], every=every, format="pdf")
        done.append(f"subscription {made.pk}: {report} {every} as pdf to {user}")
    return done
