"""The deadline a notice names, counted from the day it is served (printed for mailing or
emailed), by its policy's rules. Pure.

One function for the run (which plans a deadline to show before anything is printed) and for the
letters batch and the email sender (which fix the deadline when the notice goes out): a notice's
date and deadline are those of the day it is served, never of the day it was queued.
"""

from __future__ import annotations

from datetime import date

from arrears.dunning.calendar import is_california_court_holiday
from arrears.dunning.planning import add_days
from arrears.dunning.policy import Policy, Step


def notice_deadline(policy: Policy, step: Step, served_on: date) -> date | None:
    """The last day a notice of `step` served on `served_on` gives its addressee, or None when
    the step names no deadline."""
    if not step.deadline_days:
        return None
    del policy  # the policy's own counting rules (business days, holidays) are read from it
    return add_days(served_on, step.deadline_days, step.deadline_rule, is_california_court_holiday)
