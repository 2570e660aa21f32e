"""The demo's collections team: the demo's coordinator works two of its buildings, a colleague
the other two, and the coordinator covers for the colleague over the holidays; so the Today page
opens on the coordinator's own lines, and the scope menu and the Assignments page have something
to show. Made through the same acts as `arrears assign` and `arrears coverage add`."""

from __future__ import annotations

import secrets
from datetime import date, timedelta

from arrears.access.acting import By
from arrears.access.acts_assignments import Target, assign, coverage_add
from arrears.access.models import Assignment
from arrears.access.services import SystemActor, user_add

COLLEAGUE = "maria.lopez"
# The buildings of the demo book (arrears.demo.places), by whose desk they are on.
OWN_PROPERTIES = ("MAR", "FUL")
COLLEAGUE_PROPERTIES = ("LSG", "PHC")


def demo_team(*, coordinator: str, login: str, on: date) -> list[str]:
    """Assign the demo book's buildings to `coordinator` (an existing user) and to a colleague
    made here, once; what was done, a line each (nothing when the book has assignments)."""
    from django.contrib.auth import get_user_model

    if Assignment.objects.exists():
        return []
    by = By(SystemActor(login), "system")
    done = []
    if not get_user_model().objects.filter(username=COLLEAGUE).exists():
        # No one signs in as the colleague: her password is random and not kept.
        user_add(
            username=COLLEAGUE,
            password=secrets.token_urlsafe(24),
            role="coordinator",
            actor=by.actor,
            via="system",
        )
        done.append(f"user {COLLEAGUE} added (coordinator)")
    for username, properties in ((coordinator, OWN_PROPERTIES), (COLLEAGUE, COLLEAGUE_PROPERTIES)):
        for code in properties:
            assign(by=by, username=username, target=Target("property", code))
        done.append(f"{', '.join(properties)} assigned to {username}")
    # The colleague is out over the year's end; the coordinator covers for her.
    starts = date(on.year, 12, 24) if on < date(on.year, 12, 24) else on + timedelta(days=14)
    coverage_add(
        by=by,
        out=COLLEAGUE,
        backup=coordinator,
        starts_on=starts,
        ends_on=starts + timedelta(days=9),
        note="out of office over the holidays",
    )
    done.append(f"{coordinator} covers for {COLLEAGUE} from {starts} for 10 days")
    return done
