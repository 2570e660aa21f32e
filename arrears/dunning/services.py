"""Writes of the collection cycle: the daily run, holds and notes.

The daily run is plan → guard → execute, a chunk of accounts at a time, each chunk in its own
transaction. Every action and every refusal is written with its idempotency key and its timeline
row in that transaction, so a second run on the same date does nothing new, and a run that died
half-way, run again, finishes the rest.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from arrears.core import sql
from arrears.core.broker import on_workers, worker_wait
from arrears.core.dates import book_zone
from arrears.core.errors import NotFoundError, ValidationError
from arrears.correspondence.selectors import party_address_key
from arrears.correspondence.services import outbound_create_many
from arrears.dunning.calendar import carry_to_business_day, is_california_court_holiday
from arrears.dunning.derived import DerivedHolds, derived_holds, review
from arrears.dunning.guard import CallHistory, Decision, GuardRules, contact_point, guard_check
from arrears.dunning.models import CompanyPolicy, Hold, PolicyOverride, RunChunk, RunLog
from arrears.dunning.planning import AccountState, OpenCharge, Party, PlannedStep, next_steps
from arrears.dunning.policy import Policy, built_in_policies, choose_policy, parse_policy
from arrears.dunning.run_lock import RunInProgressError as RunInProgressError  # re-exported
from arrears.dunning.run_lock import run_lock
from arrears.dunning.run_reads import (
    GuardFacts,
    chunk_accounts,
    chunk_calls,
    chunk_consents,
    chunk_fees,
    chunk_happened,
    chunk_holds,
    chunk_parties,
    chunk_returned,
    chunk_steps_done,
)

# Imported under the names bench/cycle.py times the run's parts by (module globals of this one).
from arrears.dunning.run_reads import delinquent_since as _delinquent_since
from arrears.dunning.run_rows import (
    RunAccount,
    RunAddressee,
    RunResult,
    Written,
    packed,
    unpacked,
)
from arrears.dunning.run_rows import record_step as _record
from arrears.dunning.zones import contact_zone
from arrears.ledger.models import Account, TimelineEvent
from arrears.ledger.models import Party as PartyModel
from arrears.ledger.periods import ensure_open
from arrears.ledger.selectors import open_items_as_of, party_of_account
from arrears.ledger.services import book_lock

# Accounts in each chunk of the run (ARREARS_RUN_CHUNK, default 2000): one transaction each, and
# with a broker one task each.
CHUNK = int(getattr(settings, "ARREARS_RUN_CHUNK", 2000))


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


def cycle_run(
    *,
    on: date,
    dry_run: bool = False,
    actor: str = "cycle",
    progress: Callable[[int, int], None] | None = None,
    stop_after_chunks: int | None = None,
    holding: Callable[[], contextlib.AbstractContextManager[None]] = contextlib.nullcontext,
    wait: float = 600,
) -> RunResult:
    """Plan, guard and execute every account's due steps for `on`; see the module docstring.

    A real run holds the run lock for `on` throughout (`_run_lock`): a second real run of the
    date, started meanwhile, raises RunInProgressError. Each chunk decides on the book as
    committed when it decides: it locks its accounts (`ledger.services.book_lock`) and reads
    their open items again, so a payment an import committed since the run began counts.
    A real run dated in a closed month raises PeriodClosedError (`ledger.periods`).
    With CELERY_BROKER_URL set, a real run's chunks go to the workers (`dunning.run_fanout`),
    which raises NoWorkerError when none answers, or none finishes a chunk, within `wait`
    seconds; unset (and for a dry run, which writes nothing to hand back) they run here, through
    the same `run_chunk`.
    `stop_after_chunks` stops early (as a crash would), for the tests of a resumed run.
    `holding` is entered once the book's open items are read and left when the chunks are done:
    a command that owns its process passes `core.heap.frozen_heap` to keep them out of the
    garbage collector's sight.
    """
    if dry_run:
        return _cycle_run(on, dry_run, actor, progress, stop_after_chunks, holding, wait)
    # A run posts its fees on its own day: a day in a closed month is refused before anything is
    # done, rather than a run whose notices say one day and whose fees another.
    ensure_open([on], what=_("the daily run"))
    with run_lock(on):
        return _cycle_run(on, dry_run, actor, progress, stop_after_chunks, holding, wait)


def _cycle_run(
    on: date,
    dry_run: bool,
    actor: str,
    progress: Callable[[int, int], None] | None,
    stop_after_chunks: int | None,
    holding: Callable[[], contextlib.AbstractContextManager[None]],
    wait: float,
) -> RunResult:
    result = RunResult(on=on, dry_run=dry_run)
    candidates = sorted({item.account_pk for item in open_items_as_of(as_of=on)})
    chunks = [candidates[i : i + CHUNK] for i in range(0, len(candidates), CHUNK)]
    if stop_after_chunks is not None:
        chunks = chunks[:stop_after_chunks]
    # The workers' chunks commit on their own connections: not from inside a caller's
    # transaction (the API's act on PostgreSQL), whose run row they could not see.
    workers = not dry_run and on_workers()
    if workers:
        worker_wait(wait)
    log = (
        None
        if dry_run
        else RunLog.objects.create(
            run_on=on, dry_run=dry_run, started_at=dj_timezone.now(), chunks_total=len(chunks)
        )
    )
    review(on=on, actor=actor, dry_run=dry_run)  # promises and plans kept or broken, first
    with holding():
        if workers and log is not None:
            from arrears.dunning.run_fanout import chunks_on_workers

            done = chunks_on_workers(
                log=log, on=on, chunks=chunks, actor=actor, wait=wait, progress=progress
            )
        else:
            done = []
            for index, pks in enumerate(chunks):
                done.append(
                    run_chunk(
                        run_id=log.pk if log else None,
                        index=index,
                        pks=pks,
                        on=on,
                        dry_run=dry_run,
                        actor=actor,
                    )
                )
                if progress:
                    progress(min((index + 1) * CHUNK, len(candidates)), len(candidates))
    for chunk in done:
        result.actions.extend(chunk["actions"])
        result.blocked.extend(chunk["blocked"])
        result.accounts_seen += chunk["accounts"]
    if stop_after_chunks is not None:
        return result
    # Its own pass, over its own set (leases ending soon, whatever they owe): imported here, as
    # it reads the guard's addressee, which reads this module.
    from arrears.dunning.inspection_offer import inspection_offers_send

    offers = inspection_offers_send(on=on, actor=actor, dry_run=dry_run)
    result.inspection_offers = [x.as_json() for x in offers]
    if log is not None:
        log.finished_at = dj_timezone.now()
        log.counts = {
            "accounts": result.accounts_seen,
            "actions": len(result.actions),
            "blocked": len(result.blocked),
            "inspection_offers": result.offers_sent,
        }
        log.save(update_fields=["finished_at", "counts"])
    return result


def run_chunk(
    *,
    run_id: int | None,
    index: int,
    pks: list[int],
    on: date,
    dry_run: bool,
    actor: str,
    keep_result: bool = False,
    before_commit: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Do one chunk of a run (accounts `pks`, in key order) in one transaction, in the run's
    process or on a worker; returns what it did: {"actions", "blocked", "accounts"}.

    A real run's chunk locks its accounts' book (`book_lock`), reads their open items as
    committed now, writes its actions with a `RunChunk` row for (`run_id`, `index`) and commits;
    with `keep_result` (a worker's chunk, whose run reads it back) the row holds what it
    returns, else only that it is done (the in-process run has it in hand: a 100,000-account
    run's JSON is tens of megabytes). A chunk already done (a message redelivered) returns its
    row's result and does nothing again; a chunk of a run that stopped waiting (`RunLog.stopped`)
    does nothing and returns nothing done. `before_commit` is called just before the commit
    (the tests of a worker killed mid-chunk sleep there)."""
    policies = company_policies()
    result = RunResult(on=on, dry_run=dry_run)
    with transaction.atomic():
        if not dry_run:
            # The book as committed now, held until this chunk commits: an import or a payment
            # since the run began counts (no late fee on an account paid in grace); one that
            # starts now waits for the chunk. Read after the lock, so a duplicate of this chunk
            # waits for the first and then finds its row.
            book_lock(lo=pks[0], hi=pks[-1])
            if run_id is not None:
                done = _chunk_done(run_id, index)
                if done is not None:
                    return done
        by_account: dict[int, list[Any]] = {pk: [] for pk in pks}
        for item in open_items_as_of(as_of=on, account_range=(pks[0], pks[-1])):
            if item.account_pk in by_account:
                by_account[item.account_pk].append(item)
        out = _run_chunk(pks, by_account, policies, on, dry_run, actor, result)
        doc = {"actions": result.actions, "blocked": result.blocked, "accounts": len(pks)}
        if dry_run:
            transaction.set_rollback(True)
        else:
            if run_id is not None:
                RunChunk.objects.create(
                    run_id=run_id,
                    index=index,
                    accounts=len(pks),
                    result=packed(doc) if keep_result else {},
                    done_at=dj_timezone.now(),
                )
            out.write()  # last: from its fees to the commit, the book's append lock is held
        if before_commit is not None:
            before_commit()
    return doc


def _chunk_done(run_id: int, index: int) -> dict[str, Any] | None:
    """The result of a chunk already done, or an empty one if its run stopped waiting for it;
    None: the chunk is to be done."""
    done = RunChunk.objects.filter(run_id=run_id, index=index).values_list("result", flat=True)
    for found in done:
        return unpacked(found)
    if RunLog.objects.filter(pk=run_id).exclude(stopped="").exists():
        return {"actions": [], "blocked": [], "accounts": 0}
    return None


def _run_chunk(
    chunk: list[int],
    by_account: dict[int, list[Any]],
    policies: dict[str, Policy],
    on: date,
    dry_run: bool,
    actor: str,
    result: RunResult,
) -> Written:
    """Plan and guard each account of the chunk; returns what it is to write (the caller writes
    it, after its own row). Everything is read for the range of the chunk's account keys, as
    tuples (run_reads)."""
    lo, hi = chunk[0], chunk[-1]
    in_range = {"account_id__gte": lo, "account_id__lte": hi}
    accounts, overrides = chunk_accounts(lo, hi)
    parties = chunk_parties(in_range)
    holds = chunk_holds(in_range, on)
    derived = derived_holds(chunk, on)  # plans, promises and disputes: set-based, per chunk
    steps = chunk_steps_done(in_range, accounts)
    since = _delinquent_since(chunk, by_account, steps.anchors, on)
    fees = chunk_fees(in_range, policies, on)
    happened = chunk_happened(in_range, on)
    returned = chunk_returned(parties)
    facts = GuardFacts(
        holds, chunk_consents(in_range), chunk_calls(in_range, on), returned, derived
    )

    out = Written(on=on, now=dj_timezone.now(), actor=actor, dry_run=dry_run)
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
        state = _account_state(
            account, moved_out, by_account[pk], parties[pk], fees[pk], since.get(pk), derived
        )
        state = _with_happened(state, happened.get(pk))
        planned = next_steps(
            state,
            policy,
            steps.done[pk],
            on,
            done_on=steps.done_on[pk],
            is_court_holiday=is_california_court_holiday,
            carry_over=carry_to_business_day,
        )
        people = {ap.party_id: ap for ap in parties[pk]}
        for plan in planned:
            ap = people.get(plan.party_id) if plan.party_id else None
            decision = _decide(plan, account, ap, facts, on, rules[policy.name])
            _record(plan, decision, account, ap, out, result, steps.done[pk])
    _name_documents(out, dry_run)
    return out


def _with_happened(
    state: AccountState, dates: tuple[date | None, date | None] | None
) -> AccountState:
    """The state with a promise broken and a letter returned (run_reads.chunk_happened), which
    the policy's calls follow."""
    if dates is None:
        return state
    return dataclasses.replace(state, promise_broken_on=dates[0], mail_returned_on=dates[1])


def _account_state(
    account: RunAccount,
    moved_out: bool,
    rows: list[Any],
    parties: list[RunAddressee],
    fees: dict[str, set[date]],
    since: date | None,
    derived: DerivedHolds,
) -> AccountState:
    """What the planner sees of an account: its open items, parties, fees posted, holds."""
    charges_open = tuple(
        OpenCharge(r.txn_id, r.code, r.due_on, r.posted_on, r.amount)
        for r in rows
        if not r.is_credit
    )
    balance = sum((c.open_amount for c in charges_open), Decimal(0)) - sum(
        (r.amount for r in rows if r.is_credit), Decimal(0)
    )
    return AccountState(
        account_id=account.account_id,
        kind=account.kind,
        moved_out=moved_out,
        rent=account.rent,
        balance=balance,
        open_charges=charges_open,
        parties=tuple(Party(ap.party_id, ap.role, ap.name, ap.language) for ap in parties),
        fees_posted={code: frozenset(days) for code, days in fees.items()},
        delinquent_since=since,
        disputed_whole=derived.disputed(account.pk)[0],
        disputed=derived.disputed(account.pk)[1],
    )


def _name_documents(out: Written, dry_run: bool) -> None:
    """Correspondence queues each letter and email; the run's JSON (a dry run's too) names the
    document each becomes, and so does its action."""
    documents = outbound_create_many(out.queued, insert=not dry_run)
    for queued in out.queued:
        if queued.key in documents:
            queued.entry["document"] = documents[queued.key]
            if queued.row is not None:
                queued.row[-1] = documents[queued.key]


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


def _decide(
    plan: PlannedStep,
    account: RunAccount,
    ap: RunAddressee | None,
    facts: GuardFacts,
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


def _address_key(ap: RunAddressee, account: RunAccount) -> str:
    """The key of the address a party's letters about an account go to: read from the models,
    which only a party with returned mail needs."""
    party = PartyModel.objects.get(pk=ap.pk)
    lease = Account.objects.select_related("property").get(pk=account.pk)
    return party_address_key(party, lease, ap.role)


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
