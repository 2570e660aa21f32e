"""What a chunk of the daily run reads (dunning.services._run_chunk): its accounts and parties,
the holds, steps done, fees posted, consents and calls of a range of account keys, as tuples.

Everything is read for a range of account keys, not a list of 2,000 parameters (the range may hold
accounts with nothing open, which the run never asks for), and as tuples: model instances cost
more than all the planning.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from arrears.correspondence.models import Outbound
from arrears.correspondence.selectors import returned_addresses
from arrears.correspondence.services import LETTER_CHANNELS
from arrears.dunning.derived import DerivedHolds
from arrears.dunning.guard import ActiveHold
from arrears.dunning.models import Action, Consent, ContactAttempt, Hold, PolicyOverride
from arrears.dunning.planning import past_due_throughout
from arrears.dunning.policy import Policy
from arrears.dunning.run_rows import RunAccount, RunAddressee
from arrears.ledger.models import Account, AccountParty, OpenItemDelta, Transaction
from arrears.plans.models import Plan, Promise

InRange = dict[str, Any]


def chunk_accounts(lo: int, hi: int) -> tuple[dict[int, RunAccount], dict[int, str]]:
    """The accounts with keys from `lo` to `hi` and their policy overrides, by account key."""
    in_range = {"account_id__gte": lo, "account_id__lte": hi}
    accounts = {
        row[0]: RunAccount._make(row)
        for row in Account.objects.filter(pk__gte=lo, pk__lte=hi).values_list(
            "pk",
            "account_id",
            "kind",
            "closed_on",
            "rent",
            "property__country",
            "property__state",
            "property__timezone",
            "property__address",
        )
    }
    overrides = dict(PolicyOverride.objects.filter(**in_range).values_list("account_id", "policy"))
    return accounts, overrides


def chunk_parties(in_range: InRange) -> dict[int, list[RunAddressee]]:
    """The parties of the chunk's accounts, by account key, in the order they were linked."""
    parties: dict[int, list[RunAddressee]] = defaultdict(list)
    for row in (
        AccountParty.objects.filter(**in_range)
        .order_by("pk")
        .values_list(
            "party_id",
            "party__party_id",
            "role",
            "party__name",
            "party__language",
            "party__timezone",
            "party__state",
            "party__email",
            "party__address",
            "party__phone",
            "account_id",
        )
    ):
        parties[row[-1]].append(RunAddressee._make(row[:-1]))
    return parties


def chunk_holds(in_range: InRange, on: date) -> dict[int, list[ActiveHold]]:
    """The holds in force on `on`, by account key."""
    holds: dict[int, list[ActiveHold]] = defaultdict(list)
    for account_pk, reason, party_id, until in Hold.objects.filter(
        **in_range, released_at__isnull=True, placed_on__lte=on
    ).values_list("account_id", "reason", "party__party_id", "until"):
        holds[account_pk].append(ActiveHold(reason, party_id, until))
    return holds


class StepsDone(NamedTuple):
    """The chunk's actions by account key: their idempotency keys, the day each step's ladder
    was served (after_step triggers), and the delinquencies steps were taken for."""

    done: dict[int, set[str]]
    done_on: dict[int, dict[str, date]]
    anchors: dict[int, set[date]]


def chunk_steps_done(in_range: InRange, accounts: dict[int, RunAccount]) -> StepsDone:
    """What the run did already for the chunk's accounts (see StepsDone)."""
    done: dict[int, set[str]] = defaultdict(set)
    done_on: dict[int, dict[str, date]] = defaultdict(dict)
    anchors: dict[int, set[date]] = defaultdict(set)
    served = _letters_served(in_range)
    for account_pk, key, run_on, status, step, start in Action.objects.filter(
        **in_range
    ).values_list("account_id", "key", "run_on", "status", "step", "delinquency"):
        done[account_pk].add(key)
        if status != "refused" and start is not None:
            anchors[account_pk].add(start)
            # after_step triggers look a step up by its delinquency (see planning), from the day
            # it was served: a letter counts from the day it was printed for mailing, and not at
            # all while it waits for the batch or once it was cancelled or failed, so that a
            # referral never follows a demand before the demand's own deadline has run.
            when = served.get(key, run_on)
            if when is None:
                continue
            account_id = accounts[account_pk].account_id
            ladder = f"{account_id}:{step}:{start.isoformat()}"
            done_on[account_pk][ladder] = max(when, done_on[account_pk].get(ladder, when))
    return StepsDone(done, done_on, anchors)


def chunk_fees(
    in_range: InRange, policies: dict[str, Policy], on: date
) -> dict[int, dict[str, set[date]]]:
    """The days the policies' fees were posted on up to `on`, by account key and fee code."""
    fees: dict[int, dict[str, set[date]]] = defaultdict(lambda: defaultdict(set))
    fee_codes = {s.fee_code for p in policies.values() for s in p.steps if s.action == "fee"}
    for account_pk, code, posted in Transaction.objects.filter(
        **in_range, type="charge", code__in=fee_codes, posted_on__lte=on
    ).values_list("account_id", "code", "posted_on"):
        fees[account_pk][code].add(posted)
    return fees


def chunk_consents(in_range: InRange) -> dict[int, list[tuple[str, bool]]]:
    """The consent records of the chunk's parties, by party key, oldest first."""
    consents: dict[int, list[tuple[str, bool]]] = defaultdict(list)
    for party_pk, channel, granted in (
        Consent.objects.filter(
            party_id__in=AccountParty.objects.filter(**in_range).values("party_id")
        )
        .order_by("at", "id")
        .values_list("party_id", "channel", "granted")
    ):
        consents[party_pk].append((channel, granted))
    return consents


def chunk_calls(in_range: InRange, on: date) -> dict[tuple[int, int], list[tuple[datetime, bool]]]:
    """The calls of the week before `on`, by account and party key: when, whether a talk."""
    calls: dict[tuple[int, int], list[tuple[datetime, bool]]] = defaultdict(list)
    week_ago = datetime.combine(on - timedelta(days=8), time(0), tzinfo=ZoneInfo("UTC"))
    for a_pk, p_pk, at, talked in ContactAttempt.objects.filter(
        **in_range, channel="call", at__gte=week_ago
    ).values_list("account_id", "party_id", "at", "conversation"):
        calls[(a_pk, p_pk)].append((at, talked))
    return calls


def chunk_returned(parties: dict[int, list[RunAddressee]]) -> dict[int, set[str]]:
    """Addresses that letters came back from (correspondence), by party key: the guard refuses
    letters to them."""
    return returned_addresses({ap.pk for aps in parties.values() for ap in aps})


def _letters_served(in_range: dict[str, Any]) -> dict[str, date | None]:
    """For each letter of the chunk's accounts, by its action's key: the day it was served
    (dated when printed for mailing), or None while it is not served (queued, cancelled, failed:
    a step whose letters are all unserved is not done for the steps that follow it)."""
    served: dict[str, date | None] = {}
    for key, status, dated_on, run_on in Outbound.objects.filter(
        **in_range, channel__in=LETTER_CHANNELS
    ).values_list("key", "status", "dated_on", "run_on"):
        printed = status in ("rendered", "mailed", "returned")
        served[key] = (dated_on or run_on) if printed else None
    return served


def delinquent_since(
    chunk: list[int],
    by_account: dict[int, list[Any]],
    anchors: dict[int, set[date]],
    on: date,
) -> dict[int, date]:
    """For accounts whose oldest past-due charge is newer than the delinquency their last steps
    were taken for: that delinquency's start, if the account stayed past due ever since."""
    wanted: dict[int, date] = {}
    for pk in chunk:
        late = [r.due_on for r in by_account[pk] if not r.is_credit and r.due_on < on]
        earlier = [a for a in anchors.get(pk, ()) if late and a < min(late)]
        if earlier:
            wanted[pk] = max(earlier)
    if not wanted:
        return {}
    history: dict[int, dict[int, tuple[date, list[tuple[date, Decimal]]]]] = defaultdict(dict)
    for pk, item, due, day, delta in OpenItemDelta.objects.filter(
        account_id__in=list(wanted), is_credit=False, on_date__lte=on
    ).values_list("account_id", "item_id", "due_on", "on_date", "delta"):
        if due is not None:  # charges always have a due date
            history[pk].setdefault(item, (due, []))[1].append((day, delta))
    return {
        pk: anchor
        for pk, anchor in wanted.items()
        if past_due_throughout(list(history[pk].values()), anchor, on)
    }


def chunk_happened(in_range: InRange, on: date) -> dict[int, tuple[date | None, date | None]]:
    """By account key: the day its latest promise was broken when nothing was agreed since (a
    promise or a plan made later), and the day its latest letter came back undeliverable, up to
    `on`, within the last 60 days: the coordinator's calls after them (policy.Step)."""
    since = on - timedelta(days=60)
    broken: dict[int, tuple[date, date]] = {}
    for pk, settled, promised in Promise.objects.filter(
        **in_range, status="broken", settled_on__lte=on, settled_on__gt=since
    ).values_list("account_id", "settled_on", "promised_on"):
        if settled is not None and (pk not in broken or settled > broken[pk][0]):
            broken[pk] = (settled, promised)
    later: dict[int, date] = {}
    if broken:
        for pk, made in [
            *Promise.objects.filter(**in_range, made_on__lte=on).values_list(
                "account_id", "made_on"
            ),
            *Plan.objects.filter(**in_range, made_on__lte=on).values_list("account_id", "made_on"),
        ]:
            later[pk] = max(later.get(pk, made), made)
    returned: dict[int, date] = {}
    for pk, day in Outbound.objects.filter(
        **in_range, status="returned", returned_on__lte=on, returned_on__gt=since
    ).values_list("account_id", "returned_on"):
        if day is not None:
            returned[pk] = max(returned.get(pk, day), day)
    out: dict[int, tuple[date | None, date | None]] = {}
    for pk in broken.keys() | returned.keys():
        promise = broken.get(pk)
        # agreed again since (a new promise or plan): no call about the broken one
        if promise is not None and later.get(pk, date.min) > promise[1]:
            promise = None
        out[pk] = (promise[0] if promise else None, returned.get(pk))
    return out


class GuardFacts(NamedTuple):
    """What the guard sees of a chunk's accounts, read once per chunk: holds by account,
    consent records by party (oldest first), calls by account and party (when, whether a
    conversation), addresses mail came back from by party, and the derived holds."""

    holds: dict[int, list[ActiveHold]]
    consents: dict[int, list[tuple[str, bool]]]
    calls: dict[tuple[int, int], list[tuple[datetime, bool]]]
    returned: dict[int, set[str]]
    derived: DerivedHolds
