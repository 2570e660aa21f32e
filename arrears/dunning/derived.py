"""Holds the daily run derives from plans, promises and disputes (DESIGN: holds are derived by
dunning on each run, not flags the lower parts set).

Per chunk of accounts, `derived_holds` reads, set-based, the plans in good standing and promises
pending (`plans.selectors.cycle_holds`), what open disputes hold
(`disputes.selectors.disputed_amounts`) and the moved-out accounts whose deposit statement is
still to come (`moveout.selectors.deposits_pending`: rule `deposit`, every step waits) and the
accounts referred to a firm with their case open (`legal.selectors.cases_open`: rule `referred`,
every step waits: the firm collects now). A
commitment holds every step of its account (rule `plan` or `promise`); a dispute holds only what
it is about: planning marks the steps about disputed amounts (rule `dispute`), and the rest of
the balance keeps its course.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.utils.translation import gettext_noop

from arrears.disputes.selectors import Disputed, disputed_amounts, disputes_overdue
from arrears.dunning.planning import PlannedStep
from arrears.dunning.workline import Line
from arrears.legal.selectors import OpenCase, cases_open
from arrears.legal.settlements import money_review
from arrears.moveout.selectors import deposits_pending
from arrears.plans.selectors import CycleHold, broken_plans, broken_promises, cycle_holds
from arrears.plans.settlement import commitments_review


@dataclass(frozen=True)
class DerivedHolds:
    commitments: dict[int, CycleHold] = field(default_factory=dict)
    disputes: dict[int, Disputed] = field(default_factory=dict)
    # moved-out accounts whose deposit statement is still to come: why they wait
    deposits: dict[int, str] = field(default_factory=dict)
    # accounts with an open case at a firm: the firm collects, the cycle stops
    cases: dict[int, OpenCase] = field(default_factory=dict)

    def disputed(self, account_pk: int) -> tuple[bool, dict[str, Decimal]]:
        """(whole balance disputed, {charge txn_id: amount held}) for AccountState."""
        held = self.disputes.get(account_pk)
        return (held.whole, held.charges) if held else (False, {})

    def for_step(self, account_pk: int, step: PlannedStep) -> list[tuple[str, str]]:
        """The (rule, reason) holds that stop this step, for the guard."""
        out = []
        case = self.cases.get(account_pk)
        if case is not None:
            out.append(
                ("referred", f"referred to {case.firm} (case {case.case_id}, {case.status})")
            )
        commitment = self.commitments.get(account_pk)
        if commitment is not None:
            out.append((commitment.rule, commitment.reason))
        if step.disputed:
            out.append(("dispute", step.disputed))
        if account_pk in self.deposits:
            out.append(("deposit", self.deposits[account_pk]))
        return out


def derived_holds(account_pks: Sequence[int], on: date) -> DerivedHolds:
    """The chunk's derived holds on `on`: a fixed number of queries whatever the chunk's size."""
    return DerivedHolds(
        cycle_holds(account_pks, on),
        disputed_amounts(account_pks, on),
        deposits_pending(list(account_pks), on),
        cases_open(account_pks, on),
    )


def review(*, on: date, actor: str, dry_run: bool) -> dict[str, int]:
    """Before the run plans: settle promises and plans that `on` decides (kept, broken,
    completed), and a case's settlements (paid, broken) and recoveries after a write-off
    (`legal.settlements.money_review`), each on its account's timeline. A dry run settles
    nothing."""
    if dry_run:
        return {}
    counts = commitments_review(on=on, actor=actor)
    return counts | money_review(on=on, actor=actor).as_dict()


def worklist_lines(on: date) -> list[Line]:
    """Worklist lines: promises and plans broken and not followed by a new one, disputes open
    too long."""
    lines = [
        Line(
            b.account_pk,
            "broken_promise",
            f"promise {b.promise_id} of {b.amount:.2f} by {b.promised_on:%Y-%m-%d} broken",
            ref=f"promise:{b.promised_on}:{b.amount:.2f}",
            why=gettext_noop("Promise of {amount} by {promised_on} not kept: call to ask why"),
            facts=(("amount", f"{b.amount:,.2f}"), ("promised_on", b.promised_on.isoformat())),
        )
        for b in broken_promises(on=on)
    ]
    lines += [
        Line(
            b.account_pk,
            "plan_broken",
            f"plan {b.plan_id} broken on {b.ended_on:%Y-%m-%d}: tell "
            f"the guarantor, decide the next step",
            ref=f"plan:{b.ended_on}",
            why=gettext_noop(
                "Payment plan broken on {ended_on}: tell the guarantor, decide what next"
            ),
            facts=(("ended_on", b.ended_on.isoformat()),),
        )
        for b in broken_plans(on=on)
    ]
    lines += [
        Line(
            d.account_pk,
            "dispute_overdue",
            f"dispute {d.dispute_id} of {d.amount:.2f} open since "
            f"{d.opened_on:%Y-%m-%d}: answer it",
            ref=f"dispute:{d.opened_on}:{d.amount:.2f}",
            why=gettext_noop("Dispute of {amount} open since {opened_on}: answer it"),
            facts=(("amount", f"{d.amount:,.2f}"), ("opened_on", d.opened_on.isoformat())),
        )
        for d in disputes_overdue(on=on)
    ]
    return lines
