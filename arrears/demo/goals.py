"""The demo's collection goals: for each of its properties, the goals of the last three months and
of this one as the controller would set them, proposed from the last 12 full months' collection
rate on the charges due (`arrears goal propose --apply`), and this month's goal for the whole
book the same way, so that `arrears report forecast` and the goals page show real numbers.
Through the same act as the command (`access.acts_goals.goal_propose`), by the operator."""

from __future__ import annotations

from datetime import date

from arrears.access.acting import By
from arrears.access.acts_goals import goal_propose
from arrears.access.services import SystemActor
from arrears.core.dates import add_months, month_start

MONTHS_BACK = 3


def demo_goals(*, on: date, login: str = "demo") -> list[str]:
    """Set the demo's goals (module docstring) as of `on`; the lines saying what was set."""
    by = By(SystemActor(login), "system")
    lines = []
    this = month_start(on)
    for back in range(MONTHS_BACK, -1, -1):
        month = add_months(this, -back)
        made = goal_propose(by=by, month=month, kind="property", apply=True)
        set_ = [p for p in made if p.amount > 0]
        lines.append(f"{month:%Y-%m}: {len(set_)} property goal(s) proposed and set")
    made = goal_propose(by=by, month=this, kind="book", apply=True)
    lines.append(f"{this:%Y-%m}: {sum(1 for p in made if p.amount > 0)} goal(s) for the book")
    return lines
