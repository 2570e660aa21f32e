"""The deadline a notice names, counted from the day it is served (printed for mailing or
emailed), by its policy's rules. Pure.

One function for the run (which plans a deadline to show before anything is printed) and for the
letters batch and the email sender (which fix the deadline when the notice goes out): a notice's
date and deadline are those of the day it is served, never of the day it was queued.
"""

from __future__ import annotations

from datetime import date

from arrears.dunning.calendar import carry_to_business_day, is_california_court_holiday
from arrears.dunning.planning import deadline_after
from arrears.dunning.policy import Policy, Step


def notice_deadline(policy: Policy, step: Step, served_on: date) -> date | None:
    """The last day a notice of `step` served on `served_on` gives its addressee, or None when
    the step names no deadline.

    `deadline_days` calendar days (or California court days, `deadline_rule = "court_days"`)
    after the day of service, that day excluded (NY GCL §20; Cal. Code Civ. Proc. §12); a last
    day that is not a business day under the policy's `business_day_rule` runs to the next one
    (NY GCL §25-a: a RPAPL §711(2) demand served Fri 2026-12-11 names Mon 2026-12-28, not
    Christmas)."""
    return deadline_after(
        step,
        served_on,
        policy.business_day_rule,
        is_court_holiday=is_california_court_holiday,
        carry_over=carry_to_business_day,
    )
