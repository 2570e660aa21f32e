"""Reads for the pages of the collection cycle: the coordinator's day and an account's activity.

Each gathers, in one call, what one page shows, from the cycle's own selectors and records; none
writes. Counts are of the day asked for: letters and emails queued by that day's run, refusals of
that day's run; call and text tasks are counted while open, whatever day made them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from arrears.dunning.models import Action, Hold
from arrears.dunning.selectors import WorkItem, holds_list, timeline_list, worklist
from arrears.ledger.models import TimelineEvent

HOLDS_EXPIRING_WITHIN_DAYS = 7
LETTER_CHANNELS = ("letter", "certified_letter")


@dataclass(frozen=True)
class Refusals:
    """The refusals of one guard rule on one day."""

    rule: str
    count: int
    reason: str  # the first refusal's reason, as an example
    account_ids: tuple[str, ...]


@dataclass(frozen=True)
class Day:
    on: date
    work: list[WorkItem]
    letters: int
    certified_letters: int
    emails: int
    calls_open: int
    texts_open: int
    holds_expiring: list[Hold]
    refusals: list[Refusals]

    @property
    def letters_to_print(self) -> int:
        return self.letters + self.certified_letters

    @property
    def refused(self) -> int:
        return sum(r.count for r in self.refusals)


def day_get(*, on: date) -> Day:
    """The coordinator's day `on`: the worklist and what the day's run left to send or decide."""
    queued: dict[str, int] = defaultdict(int)
    for channel in Action.objects.filter(run_on=on, status="queued").values_list(
        "channel", flat=True
    ):
        queued[channel] += 1
    tasks: dict[str, int] = defaultdict(int)
    for channel in Action.objects.filter(status="task", run_on__lte=on).values_list(
        "channel", flat=True
    ):
        tasks[channel] += 1
    expiring = list(
        Hold.objects.filter(
            released_at__isnull=True, placed_on__lte=on, until__gte=on,
            until__lte=on + timedelta(days=HOLDS_EXPIRING_WITHIN_DAYS),
        ).select_related("account", "party").order_by("until", "id")
    )  # fmt: skip
    by_rule: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for rule, reason, account_id in (
        Action.objects.filter(run_on=on, status="refused")
        .order_by("rule", "account__account_id", "id")
        .values_list("rule", "reason", "account__account_id")
    ):
        by_rule[rule].append((reason, account_id))
    refusals = [
        Refusals(rule, len(rows), rows[0][0], tuple(dict.fromkeys(a for _, a in rows)))
        for rule, rows in sorted(by_rule.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    ]
    return Day(
        on=on, work=worklist(on=on), letters=queued["letter"],
        certified_letters=queued["certified_letter"], emails=queued["email"],
        calls_open=tasks["call"], texts_open=tasks["sms"], holds_expiring=expiring,
        refusals=refusals,
    )  # fmt: skip


@dataclass(frozen=True)
class Activity:
    """What the cycle and its people did to one account: newest first."""

    timeline: list[TimelineEvent]
    holds: list[Hold] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)


def activity_get(*, account_id: str) -> Activity:
    """The account's timeline (newest first), its holds (active and released) and its actions.

    Raises NotFoundError when there is no such account.
    """
    timeline = sorted(timeline_list(account_id=account_id), key=lambda e: (e.on, e.at, e.pk),
                      reverse=True)  # fmt: skip
    holds = holds_list(account_id=account_id)[::-1]
    actions = list(
        Action.objects.filter(account__account_id=account_id)
        .select_related("party")
        .order_by("-run_on", "-id")
    )
    return Activity(timeline=timeline, holds=holds, actions=actions)
