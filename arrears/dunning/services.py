"""Writes of the collection cycle: the daily run, holds and notes.

The daily run is plan → guard → execute, a chunk of accounts at a time, each chunk in its own
transaction. Every action and every refusal is written with its idempotency key and its timeline
row in that transaction, so a second run on the same date does nothing new, and a run that died
half-way, run again, finishes the rest.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import functools
import hashlib
import json
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from arrears.core import sql
from arrears.core.dates import book_zone
from arrears.core.errors import DomainError, NotFoundError, ValidationError
from arrears.core.fields import to_cents
from arrears.correspondence.models import Outbound
from arrears.correspondence.selectors import party_address_key, returned_addresses
from arrears.correspondence.services import LETTER_CHANNELS, outbound_create_many
from arrears.dunning.calendar import carry_to_business_day, is_california_court_holiday
from arrears.dunning.derived import DerivedHolds, derived_holds, review
from arrears.dunning.guard import (
    ActiveHold,
    CallHistory,
    Decision,
    GuardRules,
    contact_point,
    guard_check,
)
from arrears.dunning.models import (
    Action,
    CompanyPolicy,
    Consent,
    ContactAttempt,
    Hold,
    PolicyOverride,
    RunLog,
)
from arrears.dunning.planning import (
    AccountState,
    OpenCharge,
    Party,
    PlannedStep,
    next_steps,
    past_due_throughout,
)
from arrears.dunning.policy import (
    Policy,
    built_in_policies,
    choose_policy,
    jurisdiction_of,
    parse_policy,
)
from arrears.dunning.zones import contact_zone
from arrears.ledger import bulk
from arrears.ledger.models import Account, AccountParty, OpenItemDelta, TimelineEvent, Transaction
from arrears.ledger.models import Party as PartyModel
from arrears.ledger.periods import ensure_open
from arrears.ledger.selectors import open_items_as_of, party_of_account
from arrears.ledger.services import NewCharge, book_lock, charges_post

CHUNK = 2000
RUN_LOCK_SPACE = 0x41525253  # "ARRS": the namespace of the run's PostgreSQL advisory locks
NOTICE_STATUS = {
    "email": "queued",
    "letter": "queued",
    "certified_letter": "queued",
    "sms": "task",
    "call": "task",
}


class RunInProgressError(DomainError):
    """Another real run holds the run's lock: two runs of a date never run at once."""

    code = "run_in_progress"


@dataclass
class RunResult:
    on: date
    dry_run: bool
    actions: list[dict[str, Any]] = field(default_factory=list)
    blocked: list[dict[str, Any]] = field(default_factory=list)
    accounts_seen: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"date": self.on.isoformat(), "actions": self.actions, "blocked": self.blocked}


def company_policies() -> dict[str, Policy]:
    """Built-in policies, overridden by a company's own (latest version of each name).

    Read by hand-written SQL and parsed once per version: the account page asks for them on
    every request (its notice menu), and through the ORM with a parse each time they cost it
    about 0.5 ms of Python, part of why it missed its target (p95 < 150 ms, bench/web.py)."""
    policies = dict(built_in_policies())
    found = sql.rows(
        f"SELECT {sql.columns(CompanyPolicy, 'name', 'version', 'body')}"
        f" FROM {sql.table(CompanyPolicy)} ORDER BY 1, 2",
        [],
    )
    latest = {name: (version, body) for name, version, body in found}
    for name, (version, body) in latest.items():
        policies[name] = _company_policy(name, version, body)
    return policies


@functools.lru_cache(maxsize=256)
def _company_policy(name: str, version: int, body: str) -> Policy:
    """A company's policy version parsed (versions are only ever added; the body is part of the
    key all the same, so a database rebuilt under a running process is read anew)."""
    parsed = parse_policy(body, source=f"{name} v{version}")
    return dataclasses.replace(parsed, version=version)


class _Account(NamedTuple):
    """What the run reads of an account and its property: a tuple, one per account of a chunk."""

    pk: int
    account_id: str
    kind: str
    closed_on: date | None
    rent: Decimal | None
    country: str | None
    state: str | None
    property_tz: str | None
    property_address: str | None

    @property
    def jurisdiction(self) -> str:
        return jurisdiction_of(self.country, self.state)


class _Addressee(NamedTuple):
    """One of an account's parties, as the run reads it."""

    pk: int
    party_id: str
    role: str
    name: str
    language: str
    timezone: str
    state: str
    email: str
    address: str
    phone: str


def _fee_txn_id(key: str) -> str:
    return "FEE-" + hashlib.sha256(key.encode()).hexdigest()[:20].upper()


def cycle_run(
    *,
    on: date,
    dry_run: bool = False,
    actor: str = "cycle",
    progress: Callable[[int, int], None] | None = None,
    stop_after_chunks: int | None = None,
    holding: Callable[[], contextlib.AbstractContextManager[None]] = contextlib.nullcontext,
) -> RunResult:
    """Plan, guard and execute every account's due steps for `on`; see the module docstring.

    A real run holds the run lock for `on` throughout (`_run_lock`): a second real run of the
    date, started meanwhile, raises RunInProgressError. Each chunk decides on the book as
    committed when it decides: it locks its accounts (`ledger.services.book_lock`) and reads
    their open items again, so a payment an import committed since the run began counts.
    A real run dated in a closed month raises PeriodClosedError (`ledger.periods`).
    `stop_after_chunks` stops early (as a crash would), for the tests of a resumed run.
    `holding` is entered once the book's open items are read and left when the chunks are done:
    a command that owns its process passes `core.heap.frozen_heap` to keep them out of the
    garbage collector's sight.
    """
    if dry_run:
        return _cycle_run(on, dry_run, actor, progress, stop_after_chunks, holding)
    # A run posts its fees on its own day: a day in a closed month is refused before anything is
    # done, rather than a run whose notices say one day and whose fees another.
    ensure_open([on], what=_("the daily run"))
    with _run_lock(on):
        return _cycle_run(on, dry_run, actor, progress, stop_after_chunks, holding)


def _cycle_run(
    on: date,
    dry_run: bool,
    actor: str,
    progress: Callable[[int, int], None] | None,
    stop_after_chunks: int | None,
    holding: Callable[[], contextlib.AbstractContextManager[None]],
) -> RunResult:
    policies = company_policies()
    result = RunResult(on=on, dry_run=dry_run)
    items = open_items_as_of(as_of=on)
    by_account: dict[int, list[Any]] = defaultdict(list)
    for item in items:
        by_account[item.account_pk].append(item)
    candidates = sorted(by_account)
    log = (
        None
        if dry_run
        else RunLog.objects.create(run_on=on, dry_run=dry_run, started_at=dj_timezone.now())
    )
    review(on=on, actor=actor, dry_run=dry_run)  # promises and plans kept or broken, first
    with holding():
        for index in range(0, len(candidates), CHUNK):
            if stop_after_chunks is not None and index // CHUNK >= stop_after_chunks:
                return result
            chunk = candidates[index : index + CHUNK]
            with transaction.atomic():
                if not dry_run:
                    # The book as committed now, held until this chunk commits: an import or a
                    # payment since the run began counts (no late fee on an account paid in
                    # grace); one that starts now waits for the chunk.
                    book_lock(lo=chunk[0], hi=chunk[-1])
                    for pk in chunk:
                        by_account[pk] = []
                    members = set(chunk)
                    for item in open_items_as_of(as_of=on, account_range=(chunk[0], chunk[-1])):
                        if item.account_pk in members:
                            by_account[item.account_pk].append(item)
                _run_chunk(chunk, by_account, policies, on, dry_run, actor, result)
                if dry_run:
                    transaction.set_rollback(True)
            result.accounts_seen += len(chunk)
            if progress:
                progress(min(index + CHUNK, len(candidates)), len(candidates))
    if log is not None:
        log.finished_at = dj_timezone.now()
        log.counts = {
            "accounts": result.accounts_seen,
            "actions": len(result.actions),
            "blocked": len(result.blocked),
        }
        log.save(update_fields=["finished_at", "counts"])
    return result


@contextlib.contextmanager
def _run_lock(on: date) -> Iterator[None]:
    """Hold the lock of a real run for `on`, or raise RunInProgressError naming the run that
    holds it. The lock dies with its holder, so a run killed half-way, run again, resumes.

    PostgreSQL: a session advisory lock keyed by the date. SQLite: an exclusive `flock` on a file
    beside the database (one real run at a time on it, whatever the date: SQLite serialises
    writers anyway); an in-memory database has one process, and a lock of that process.
    """
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        # Inside a caller's transaction (the API's audited act): a lock of that transaction,
        # released with it whatever becomes of it.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_try_advisory_xact_lock(%s, %s)", [RUN_LOCK_SPACE, on.toordinal()]
            )
            if not cursor.fetchone()[0]:
                raise _in_progress(on)
        yield
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [RUN_LOCK_SPACE, on.toordinal()])
            if not cursor.fetchone()[0]:
                raise _in_progress(on)
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_unlock(%s, %s)", [RUN_LOCK_SPACE, on.toordinal()]
                )
        return
    name = str(connection.settings_dict["NAME"])
    if name == ":memory:" or "mode=memory" in name:
        if not _MEMORY_RUN_LOCK.acquire(blocking=False):
            raise _in_progress(on)
        try:
            yield
        finally:
            _MEMORY_RUN_LOCK.release()
        return
    with open(f"{name}.run-lock", "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _in_progress(on) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


_MEMORY_RUN_LOCK = threading.Lock()


def _in_progress(on: date) -> RunInProgressError:
    running = (
        RunLog.objects.filter(dry_run=False, finished_at__isnull=True)
        .order_by("-started_at")
        .first()
    )
    if running is None:
        return RunInProgressError(f"a run for {on} is in progress", date=on.isoformat())
    started = dj_timezone.localtime(running.started_at, book_zone())
    return RunInProgressError(
        f"a run for {running.run_on} is in progress (started {started:%Y-%m-%d %H:%M:%S %Z})",
        date=running.run_on.isoformat(),
        started_at=running.started_at.isoformat(),
    )


def _run_chunk(
    chunk: list[int],
    by_account: dict[int, list[Any]],
    policies: dict[str, Policy],
    on: date,
    dry_run: bool,
    actor: str,
    result: RunResult,
) -> None:
    # Everything is read for a range of account keys, not a list of 2,000 parameters (the range
    # may hold accounts with nothing open, which the loop below never asks for), and as tuples:
    # model instances cost more than all the planning.
    lo, hi = chunk[0], chunk[-1]
    in_range = {"account_id__gte": lo, "account_id__lte": hi}
    accounts = {
        row[0]: _Account._make(row)
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
    parties: dict[int, list[_Addressee]] = defaultdict(list)
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
        parties[row[-1]].append(_Addressee._make(row[:-1]))
    holds: dict[int, list[ActiveHold]] = defaultdict(list)
    for account_pk, reason, party_id, until in Hold.objects.filter(
        **in_range, released_at__isnull=True, placed_on__lte=on
    ).values_list("account_id", "reason", "party__party_id", "until"):
        holds[account_pk].append(ActiveHold(reason, party_id, until))
    derived = derived_holds(chunk, on)  # plans, promises and disputes: set-based, per chunk
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
    since = _delinquent_since(chunk, by_account, anchors, on)
    fees: dict[int, dict[str, set[date]]] = defaultdict(lambda: defaultdict(set))
    fee_codes = {s.fee_code for p in policies.values() for s in p.steps if s.action == "fee"}
    for account_pk, code, posted in Transaction.objects.filter(
        **in_range, type="charge", code__in=fee_codes, posted_on__lte=on
    ).values_list("account_id", "code", "posted_on"):
        fees[account_pk][code].add(posted)
    consents: dict[int, list[tuple[str, bool]]] = defaultdict(list)
    # Addresses that letters came back from (correspondence): the guard refuses letters to them.
    returned = returned_addresses({ap.pk for aps in parties.values() for ap in aps})
    for party_pk, channel, granted in (
        Consent.objects.filter(
            party_id__in=AccountParty.objects.filter(**in_range).values("party_id")
        )
        .order_by("at", "id")
        .values_list("party_id", "channel", "granted")
    ):
        consents[party_pk].append((channel, granted))
    calls: dict[tuple[int, int], list[tuple[datetime, bool]]] = defaultdict(list)
    week_ago = datetime.combine(on - timedelta(days=8), time(0), tzinfo=ZoneInfo("UTC"))
    for a_pk, p_pk, at, talked in ContactAttempt.objects.filter(
        **in_range, channel="call", at__gte=week_ago
    ).values_list("account_id", "party_id", "at", "conversation"):
        calls[(a_pk, p_pk)].append((at, talked))
    facts = _GuardFacts(holds, consents, calls, returned, derived)

    out = _Written(on=on, now=dj_timezone.now(), actor=actor, dry_run=dry_run)
    rules = {name: guard_rules(policy) for name, policy in policies.items()}
    for pk in chunk:
        account = accounts[pk]
        moved_out = account.closed_on is not None and account.closed_on <= on
        policy = choose_policy(
            policies,
            jurisdiction=account.jurisdiction,
            account_kind=account.kind,
            moved_out=moved_out,
            override=overrides.get(pk),
        )
        if policy is None:
            continue
        rows = by_account[pk]
        charges_open = tuple(
            OpenCharge(r.txn_id, r.code, r.due_on, r.posted_on, r.amount)
            for r in rows
            if not r.is_credit
        )
        balance = sum((c.open_amount for c in charges_open), Decimal(0)) - sum(
            (r.amount for r in rows if r.is_credit), Decimal(0)
        )
        people = {ap.party_id: ap for ap in parties[pk]}
        state = AccountState(
            account_id=account.account_id,
            kind=account.kind,
            moved_out=moved_out,
            rent=account.rent,
            balance=balance,
            open_charges=charges_open,
            parties=tuple(Party(ap.party_id, ap.role, ap.name, ap.language) for ap in parties[pk]),
            fees_posted={code: frozenset(days) for code, days in fees[pk].items()},
            delinquent_since=since.get(pk),
            disputed_whole=derived.disputed(pk)[0],
            disputed=derived.disputed(pk)[1],
        )
        planned = next_steps(
            state,
            policy,
            done[pk],
            on,
            done_on=done_on[pk],
            is_court_holiday=is_california_court_holiday,
            carry_over=carry_to_business_day,
        )
        for plan in planned:
            ap = people.get(plan.party_id) if plan.party_id else None
            decision = _decide(plan, account, ap, facts, on, rules[policy.name])
            _record(plan, decision, account, ap, out, result, done[pk])
    # Correspondence queues each letter and email; the run's JSON (a dry run's too) names the
    # document each becomes, and so does its action.
    documents = outbound_create_many(out.queued, insert=not dry_run)
    for queued in out.queued:
        if queued.key in documents:
            queued.entry["document"] = documents[queued.key]
            if queued.row is not None:
                queued.row[-1] = documents[queued.key]
    if not dry_run:
        out.write()


class _Queued(NamedTuple):
    """A letter or email the run decided on, as correspondence's `outbound_create_many` reads it
    (with the run's JSON entry and action row, to name its document in them)."""

    key: str
    account: _Account
    party: _Addressee | None
    role: str
    channel: str
    template: str
    language: str
    policy: str
    step: str
    run_on: date
    amount: Decimal | None
    deadline: date | None
    delinquency: date | None
    entry: dict[str, Any]
    row: list[Any] | None
    status: str = "queued"
    charge: str | None = None  # the charge a per-charge step is about (its txn id)


class _Written:
    """What a chunk of the run writes: its actions, timeline rows and fees, as rows (tuples of
    database values) for one COPY each. A dry run keeps none of it."""

    ACTION_COLUMNS = (
        "key",
        "account_id",
        "party_id",
        "role",
        "policy",
        "policy_version",
        "step",
        "action",
        "channel",
        "template",
        "language",
        "amount",
        "deadline",
        "delinquency",
        "charge_id",
        "status",
        "rule",
        "reason",
        "run_on",
        "created_at",
        "document",
    )
    EVENT_COLUMNS = ("account_id", "at", "on", "kind", "actor", "summary", "detail")

    def __init__(self, *, on: date, now: datetime, actor: str, dry_run: bool) -> None:
        ops = connection.ops
        self.dry_run = dry_run
        self.actor = actor
        self.on, self.now = on, now
        self.db_on = ops.adapt_datefield_value(on)
        self.db_now = ops.adapt_datetimefield_value(now)
        self.db_date = ops.adapt_datefield_value
        self.actions: list[list[Any]] = []
        self.fee_rows: dict[str, list[Any]] = {}  # a fee's txn_id: its action's row
        self.events: list[tuple[Any, ...]] = []
        self.charges: list[NewCharge] = []
        self.queued: list[_Queued] = []

    def action(
        self,
        plan: PlannedStep,
        account: _Account,
        ap: _Addressee | None,
        key: str,
        status: str,
        decision: Decision,
    ) -> list[Any]:
        step = plan.step
        row = [
            key,
            account.pk,
            ap.pk if ap else None,
            plan.role or "",
            plan.policy,
            plan.policy_version,
            step.key,
            step.action,
            step.channel or "",
            step.template or "",
            plan.language if plan.language in ("en", "es") else "en",
            None if plan.amount is None else to_cents(plan.amount),
            None if plan.deadline is None else self.db_date(plan.deadline),
            None if plan.delinquency is None else self.db_date(plan.delinquency),
            None,
            status,
            decision.rule,
            decision.reason[:300],
            self.db_on,
            self.db_now,
            "",
        ]
        self.actions.append(row)
        if step.action == "fee" and status == "done":
            self.fee_rows[_fee_txn_id(key)] = row
        return row

    def event(self, account: _Account, kind: str, summary: str, detail: dict[str, Any]) -> None:
        self.events.append(
            (
                account.pk,
                self.db_now,
                self.db_on,
                kind,
                self.actor,
                summary[:500],
                json.dumps(detail),
            )
        )

    def write(self) -> None:
        charges_post(self.charges)
        if self.fee_rows:
            charge_id = self.ACTION_COLUMNS.index("charge_id")
            for txn_id, pk in Transaction.objects.filter(
                txn_id__in=list(self.fee_rows)
            ).values_list("txn_id", "id"):
                self.fee_rows[txn_id][charge_id] = pk
        bulk.insert_rows(Action._meta.db_table, self.ACTION_COLUMNS, self.actions)
        bulk.insert_rows(TimelineEvent._meta.db_table, self.EVENT_COLUMNS, self.events)


def guard_rules(policy: Policy) -> GuardRules:
    """The guard's windows and caps for a policy: the federal floor unless the policy's
    [settings] ask for stricter ones (`contact_from = "09:00"`, `contact_until = "20:00"`,
    `calls_per_week = 3`, `quiet_days_after_conversation = 7`), for stricter local rules."""
    settings = policy.settings
    base = GuardRules()
    return GuardRules(
        earliest=time.fromisoformat(settings.get("contact_from", base.earliest.isoformat())),
        latest=time.fromisoformat(settings.get("contact_until", base.latest.isoformat())),
        calls_per_week=int(settings.get("calls_per_week", base.calls_per_week)),
        quiet_days_after_conversation=int(
            settings.get("quiet_days_after_conversation", base.quiet_days_after_conversation)
        ),
    )


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


def _delinquent_since(
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


class _GuardFacts(NamedTuple):
    """What the guard sees of a chunk's accounts, read once per chunk: holds by account,
    consent records by party (oldest first), calls by account and party (when, whether a
    conversation), addresses mail came back from by party, and the derived holds."""

    holds: dict[int, list[ActiveHold]]
    consents: dict[int, list[tuple[str, bool]]]
    calls: dict[tuple[int, int], list[tuple[datetime, bool]]]
    returned: dict[int, set[str]]
    derived: DerivedHolds


def _decide(
    plan: PlannedStep,
    account: _Account,
    ap: _Addressee | None,
    facts: _GuardFacts,
    on: date,
    rules: GuardRules,
) -> Decision:
    step = plan.step
    contact = None
    history = None
    zone = str(book_zone())
    if ap is not None:
        zone = contact_zone(ap.timezone, ap.state, account.property_tz, account.state)
        contact = contact_point(
            party_id=ap.party_id,
            role=ap.role,
            timezone=zone,
            email=ap.email,
            address=ap.address,
            phone=ap.phone,
            unit_address=account.property_address,
            consents=facts.consents.get(ap.pk, ()),
            address_returned=ap.pk in facts.returned
            and _address_key(ap, account) in facts.returned[ap.pk],
        )
        history = CallHistory.of(facts.calls.get((account.pk, ap.pk), ()))
    # The run's contacts go out on its date at noon in the addressee's zone: letters are mailed,
    # emails scheduled and call tasks listed inside the contact window; a coordinator's call is
    # checked again, at the minute it is placed, when it is logged.
    at = datetime.combine(on, time(12, 0), tzinfo=ZoneInfo(zone))
    return guard_check(
        action=step.action,
        channel=step.channel,
        at=at,
        holds=facts.holds[account.pk],
        contact=contact,
        calls=history,
        rules=rules,
        derived=facts.derived.for_step(account.pk, plan),
    )


def _address_key(ap: _Addressee, account: _Account) -> str:
    """The key of the address a party's letters about an account go to: read from the models,
    which only a party with returned mail needs."""
    party = PartyModel.objects.get(pk=ap.pk)
    lease = Account.objects.select_related("property").get(pk=account.pk)
    return party_address_key(party, lease, ap.role)


def _record(
    plan: PlannedStep,
    decision: Decision,
    account: _Account,
    ap: _Addressee | None,
    out: _Written,
    result: RunResult,
    done: set[str],
) -> None:
    step = plan.step
    party_id = ap.party_id if ap else None
    if not decision.allowed:
        # A refusal is recorded once for its step and rule: the guard is asked again each day
        # (a hold may end, an address may arrive), but the same answer is not written again.
        key = f"{plan.key}@{decision.rule}"
        if key in done:
            return
        result.blocked.append(
            {
                "account_id": account.account_id,
                "party_id": party_id,
                "step": step.key,
                "rule": decision.rule,
            }
        )
        if out.dry_run:
            return
        out.action(plan, account, ap, key, "refused", decision)
        out.event(
            account,
            f"{step.action}.refused",
            f"{step.key} not done"
            + (f" for {party_id}" if party_id else "")
            + f": {decision.reason or decision.rule}",
            {
                "step": step.key,
                "rule": decision.rule,
                "policy": plan.policy,
                "party_id": party_id,
                "key": plan.key,
            },
        )
        return
    entry: dict[str, Any] = {
        "account_id": account.account_id,
        "party_id": party_id,
        "role": plan.role,
        "step": step.key,
        "channel": step.channel,
        "template": step.template,
    }
    if plan.amount is not None:
        entry["amount"] = f"{plan.amount:.2f}"
    if plan.deadline is not None:
        entry["deadline"] = plan.deadline.isoformat()
    result.actions.append(entry)
    status = NOTICE_STATUS.get(step.channel or "", "done") if step.action == "notice" else "done"
    row = None if out.dry_run else out.action(plan, account, ap, plan.key, status, decision)
    if status == "queued":
        out.queued.append(
            _Queued(
                plan.key,
                account,
                ap,
                plan.role or "",
                step.channel or "",
                step.template or "",
                plan.language if plan.language in ("en", "es") else "en",
                plan.policy,
                step.key,
                out.on,
                plan.amount,
                plan.deadline,
                plan.delinquency,
                entry,
                row,
                charge=plan.charge_txn_id if step.per == "charge" else None,
            )
        )
    if out.dry_run:
        return
    if step.action == "fee":
        assert plan.amount is not None
        out.charges.append(
            NewCharge(
                txn_id=_fee_txn_id(plan.key),
                account_pk=account.pk,
                posted_on=out.on,
                due_on=out.on,
                code=step.fee_code,
                amount=plan.amount,
                memo=f"{step.key} for {plan.charge_txn_id} ({step.law})".strip(),
                reference=plan.key[:200],
            )
        )
    what = {
        "notice": f"{step.template} by {step.channel} to {party_id} ({plan.role})",
        "fee": f"{step.fee_code} fee {plan.amount} posted",
        "recommend_referral": "referral to the attorney recommended",
        "referral": "referred",
        "hold": f"{step.hold_reason} hold placed",
    }.get(step.action, step.action)
    out.event(
        account,
        f"{step.action}.{status}",
        f"{step.key}: {what}",
        {
            "step": step.key,
            "policy": plan.policy,
            "policy_version": plan.policy_version,
            "party_id": party_id,
            "amount": entry.get("amount"),
            "law": step.law,
            "deadline": entry.get("deadline"),
            "key": plan.key,
        },
    )


@transaction.atomic
def policy_add(*, text: str, source: str = "policy") -> CompanyPolicy:
    """Store a company's policy as a new version of its name; PolicyError if it does not parse.

    A policy's earlier versions stay: what was done under them keeps their name and version.
    """
    policy = parse_policy(text, source=source)
    last = CompanyPolicy.objects.filter(name=policy.name).order_by("-version").first()
    built_in = built_in_policies().get(policy.name)
    # A version number names one text only: after the built-in's and the company's last.
    version = max(
        policy.version,
        last.version + 1 if last else 1,
        built_in.version + 1 if built_in else 1,
    )
    return CompanyPolicy.objects.create(name=policy.name, version=version, body=text)


@transaction.atomic
def policy_assign(*, account_id: str, policy: str | None, actor: str, on: date) -> None:
    """Make one account follow a named policy (None: back to the one its property chooses)."""
    account = _account(account_id)
    if policy is not None and policy not in company_policies():
        raise NotFoundError(
            _("no policy {policy!r}"), code="policy_not_found", field="policy", policy=policy
        )
    PolicyOverride.objects.filter(account=account).delete()
    if policy is not None:
        PolicyOverride.objects.create(account=account, policy=policy)
    TimelineEvent.objects.create(
        account=account,
        at=dj_timezone.now(),
        on=on,
        kind="policy.assigned",
        actor=actor,
        summary=f"follows policy {policy}" if policy else "follows its property's policy again",
        detail={"policy": policy},
    )


def _account(account_id: str) -> Account:
    try:
        return Account.objects.get(account_id=account_id)
    except Account.DoesNotExist:
        raise NotFoundError(
            _("no account {account_id!r}"), code="account_not_found", account_id=account_id
        ) from None


@transaction.atomic
def hold_place(
    *,
    account_id: str,
    reason: str,
    on: date,
    actor: str,
    until: date | None = None,
    party_id: str | None = None,
    note: str = "",
) -> Hold:
    """Place a hold on an account (or one of its parties); written on the timeline."""
    if reason not in Hold.Reason.values:
        raise ValidationError(
            _("a hold's reason is one of {choices}"),
            field="reason",
            reason=reason,
            choices=", ".join(Hold.Reason.values),
        )
    account = _account(account_id)
    party = party_of_account(account, party_id)
    if until is not None and until < on:
        raise ValidationError(
            _("the hold ends on {until}, before it starts ({start})"),
            code="hold_ends_before_start",
            field="until",
            until=until,
            start=on,
        )
    hold = Hold.objects.create(
        account=account,
        party=party,
        reason=reason,
        placed_on=on,
        until=until,
        note=note,
        placed_by=actor,
    )
    whom = f" on {party_id}" if party_id else ""
    TimelineEvent.objects.create(
        account=account,
        at=dj_timezone.now(),
        on=on,
        kind="hold.placed",
        actor=actor,
        summary=f"{reason} hold{whom}" + (f" until {until}" if until else ""),
        detail={
            "hold": hold.pk,
            "reason": reason,
            "party_id": party_id,
            "until": until.isoformat() if until else None,
            "note": note,
        },
    )
    return hold


@transaction.atomic
def hold_release(*, account_id: str, hold_id: int, actor: str, on: date) -> Hold:
    """Release a hold (it stays on record, released)."""
    account = _account(account_id)
    hold = Hold.objects.select_for_update().filter(account=account, pk=hold_id).first()
    if hold is None:
        raise NotFoundError(
            _("account {account_id!r} has no hold {hold_id}"),
            code="hold_not_found",
            account_id=account_id,
            hold_id=hold_id,
        )
    if hold.released_at is not None:
        raise ValidationError(
            _("hold {hold_id} was already released on {released_on}"),
            code="hold_released",
            hold_id=hold_id,
            released_on=hold.released_on,
        )
    hold.released_at = dj_timezone.now()
    hold.released_on = on
    hold.released_by = actor
    hold.save(update_fields=["released_at", "released_on", "released_by"])
    TimelineEvent.objects.create(
        account=account,
        at=hold.released_at,
        on=on,
        kind="hold.released",
        actor=actor,
        summary=f"{hold.reason} hold released",
        detail={"hold": hold.pk},
    )
    return hold


@transaction.atomic
def note_add(*, account_id: str, text: str, actor: str, on: date) -> TimelineEvent:
    if not text.strip():
        raise ValidationError(_("a note needs some text"), code="note_empty", field="text")
    account = _account(account_id)
    return TimelineEvent.objects.create(
        account=account,
        at=dj_timezone.now(),
        on=on,
        kind="note.added",
        actor=actor,
        summary=text.strip()[:500],
        detail={"text": text.strip()},
    )
