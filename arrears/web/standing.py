"""Where an account stands, for the account page's status strip: its stage in its policy (the
latest step the run took, what comes next and from when), why it is on the worklist, and its
badges (holds, promise, plan, dispute, referral with its case's hearing and judgment, deposit),
each worded in full so that no state is shown by colour alone.

Made from what the page reads already (the ledger, the activity, the policy) and one query of its
own (`web.selectors.standing_read`): the page has a p95 target (README, "Benchmarks").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from arrears.correspondence.catalog import CATALOG, language_for
from arrears.dunning.policy import Policy, Step
from arrears.dunning.worklist import EXPIRING_WITHIN_DAYS
from arrears.dunning.worklist_detail import STEP_TAKEN, next_step
from arrears.legal.models import CASE_STATUSES
from arrears.legal.selectors import case_of_account
from arrears.web.selectors import StandingFlags, standing_read
from arrears.web.templatetags.amounts import amount as money
from arrears.web.templatetags.amounts import day as day_text

SHOWN_ACTIONS = ("notice", "fee", "recommend_referral", "referral", "hold", "call", "sms")
DISPUTE_AGEING_DAYS = 30  # an open dispute this old is worked (15 USC §1692g(b): verify first)


@dataclass(frozen=True)
class Badge:
    kind: str  # hold, promise, plan, dispute, referral, hearing, judgment, deposit (CSS class)
    text: str


@dataclass(frozen=True)
class Standing:
    policy: str
    latest: str  # the latest step the run took, with its day ("" none)
    upcoming: str  # the next step and from when ("" none)
    reasons: list[str] = field(default_factory=list)  # why it is on the worklist
    badges: list[Badge] = field(default_factory=list)


def step_name(step: Step | None, key: str, language: str) -> str:
    """A step in words: its letter's title, else what it does."""
    return step_words(
        step.template or "" if step is not None else "",
        step.action if step is not None else "",
        key,
        language,
    )


def step_words(template: str, action: str, key: str, language: str) -> str:
    """A step, by its template and action, in words: its letter's title, else what it does,
    else its key."""
    if template and template in CATALOG:
        return CATALOG[template].title(language_for(language))
    words = {
        "fee": _("late fee"),
        "recommend_referral": _("referral to an attorney recommended"),
        "referral": _("referral to an attorney"),
        "hold": _("hold"),
        "call": _("a call to the tenant"),
        "sms": _("a text message"),
    }
    return words.get(action, key.replace("-", " "))


def account_standing(
    *,
    account: Any,
    ledger: Any,
    activity: Any,
    policy: Policy | None,
    on: date,
    language: str,
    flags: StandingFlags | None = None,
) -> Standing:
    flags = flags or standing_read(account.pk)
    past_due = [
        line.due_on
        for line in ledger.lines
        if line.type == "charge" and line.open_amount and line.due_on and line.due_on < on
    ]
    oldest = min(past_due) if past_due else None
    taken = [a for a in activity.actions if a.status != "refused" and a.action in SHOWN_ACTIONS]
    steps = {s.key: s for s in policy.steps} if policy is not None else {}
    latest = upcoming = ""
    if taken:
        a = taken[0]
        latest = _("%(step)s on %(day)s") % {
            "step": step_name(steps.get(a.step), a.step, language),
            "day": day_text(a.run_on),
        }
    if policy is not None and ledger.balance > 0:
        upcoming = _next_step(policy, activity.actions, oldest, on, language)
    return Standing(
        policy=policy.name if policy is not None else "",
        latest=latest,
        upcoming=upcoming,
        reasons=_reasons(activity, flags, ledger.balance, on, steps, language),
        badges=_badges(account, activity, flags, on),
    )


def _next_step(
    policy: Policy, actions: list[Any], oldest: date | None, on: date, language: str
) -> str:
    """The policy's next step and the day it comes, as the worklist reckons it
    (`worklist_detail.next_step`, from the oldest open charge's due date): an estimate, the run
    decides."""
    if oldest is None:
        return ""
    done: dict[str, date] = {}
    for a in actions:
        if a.status in STEP_TAKEN:
            done[a.step] = max(done.get(a.step, date.min), a.run_on)
    step, when = next_step(policy, oldest, done, on)
    if step is None or when is None:
        return ""
    name = step_name(step, step.key, language)
    if when <= on:
        return _("%(step)s, due now") % {"step": name}
    return _("%(step)s, from %(day)s") % {"step": name, "day": day_text(when)}


def _reasons(
    activity: Any,
    flags: StandingFlags,
    balance: Decimal,
    on: date,
    steps: dict[str, Step],
    language: str,
) -> list[str]:
    out: list[str] = []
    if balance <= 0:
        return out
    referred = bool(flags.firm)
    for a in activity.actions:
        name = step_name(steps.get(a.step), a.step, language)
        if a.status == "task" and a.run_on <= on:
            out.append(_("a call to make (%(step)s)") % {"step": name})
        elif (
            a.deadline is not None
            and a.status in ("queued", "done")
            and on <= a.deadline <= on + timedelta(days=EXPIRING_WITHIN_DAYS)
        ):
            out.append(
                _("%(step)s expires %(day)s unpaid") % {"step": name, "day": day_text(a.deadline)}
            )
        elif a.action in ("recommend_referral", "referral") and a.status == "done" and not referred:
            out.append(
                _("referral to an attorney recommended on %(day)s") % {"day": day_text(a.run_on)}
            )
            referred = True  # once
    if flags.latest_promise == "broken":
        out.append(_("a promise was broken"))
    if flags.plan == "broken":
        out.append(_("the payment plan was broken"))
    if flags.dispute_since and (on - flags.dispute_since).days > DISPUTE_AGEING_DAYS:
        out.append(
            _("a dispute open since %(day)s needs an answer")
            % {"day": day_text(flags.dispute_since)}
        )
    return list(dict.fromkeys(out))


def _badges(account: Any, activity: Any, flags: StandingFlags, on: date) -> list[Badge]:
    out = []
    for h in activity.holds:
        if h.released_at or (h.until and h.until < on) or h.placed_on > on:
            continue
        whom = h.party_name if h.party_id else _("the account")
        text = _("Hold: %(reason)s on %(whom)s") % {"reason": hold_word(h.reason), "whom": whom}
        if h.until:
            text += " " + _("until %(day)s") % {"day": day_text(h.until)}
        out.append(Badge("hold", text))
    if flags.promise_amount is not None:
        out.append(
            Badge(
                "promise",
                _("Promise: %(amount)s by %(day)s")
                % {"amount": money(flags.promise_amount), "day": day_text(flags.promise_on)},
            )
        )
    if flags.plan == "active":
        out.append(Badge("plan", _("Payment plan in place")))
    if flags.disputes_open:
        out.append(
            Badge(
                "dispute",
                _("Dispute open since %(day)s") % {"day": day_text(flags.dispute_since)},
            )
        )
    if flags.firm:
        out += _case_badges(account, flags.firm, on)
    held = (account.extra or {}).get("deposit_held")
    if held:
        out.append(Badge("deposit", _("Deposit held: %(amount)s") % {"amount": held}))
    return out


def _case_badges(account: Any, firm: str, on: date) -> list[Badge]:
    """A referred account's case (read only for a referred account: one small query): the firm
    and where the case stands, its next hearing, its judgment; what the account's property
    manager is told of their building (issue 17, item 7)."""
    case = case_of_account(account.pk)
    if case is None:  # ended between the two reads
        return [Badge("referral", _("Referred to %(firm)s") % {"firm": firm})]
    text = _("Referred to %(firm)s: case %(case)s, %(status)s") % {
        "firm": case.firm,
        "case": case.pk,
        "status": CASE_STATUSES.get(case.status, case.status),
    }
    if case.index_number:
        text += ", " + _("index number %(index)s") % {"index": case.index_number}
    out = [Badge("referral", text)]
    if case.hearing_on is not None and case.hearing_on >= on:
        hearing = _("Hearing on %(day)s") % {"day": day_text(case.hearing_on)}
        if case.court:
            hearing += " " + _("at %(court)s") % {"court": case.court}
        out.append(Badge("hearing", hearing))
    if case.judgment_amount is not None:
        out.append(
            Badge(
                "judgment",
                _("Judgment of %(amount)s on %(day)s")
                % {"amount": money(case.judgment_amount), "day": day_text(case.judgment_on)},
            )
        )
    return out


def hold_word(reason: str) -> str:
    """A hold's reason in words (the status strip, the hold form's choices)."""
    words = {
        "dispute": _("dispute"),
        "bankruptcy": _("bankruptcy"),
        "represented": _("represented by an attorney"),
        "cease": _("asked us to stop contact"),
        "deceased": _("deceased"),
        "military": _("military service"),
        "plan": _("payment plan"),
        "manual": _("manual"),
    }
    return words.get(reason, reason)
