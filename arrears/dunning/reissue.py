"""Notices checked again when they go out: the letters batch (`letters_print`, the one service the
CLI, the letters page and the API call) and the email sender (`emails_recheck`, from
`contact.emails_send`).

The run queues a notice with the figures of its day; it goes out later (the batch, the sender).
When it goes, its reason is asked of the book as of that day (`still_due`), the party must still
be one of the account's in the step's audience under the policy the account follows, and the
compliance guard must still allow it (holds, plans, promises, disputes, cease, bankruptcy…). What
is no longer due is cancelled with its reason (its action closed: the worklist no longer shows
it); what goes is dated that day, with its amount of that day and a deadline counted from that
day (`deadlines.notice_deadline`). A notice queued by hand or a dispute's answer (no policy step)
keeps its own deadline, or none, and is asked of the guard only. A letter that waited past its
policy's window, or whose deadline passed, is re-dated or re-issued (`stale`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction

from arrears.correspondence.models import Outbound
from arrears.correspondence.services import (
    BatchResult,
    Recheck,
    email_unprepare,
    letters_batch,
    outbound_cancel,
    outbound_dated,
)
from arrears.dunning.addressee import _guard, _party_zone, addressee, answer_addressee
from arrears.dunning.deadlines import notice_deadline
from arrears.dunning.derived import derived_holds
from arrears.dunning.models import Action, PolicyOverride
from arrears.dunning.planning import AccountState, OpenCharge
from arrears.dunning.policy import Policy, choose_policy, jurisdiction_of
from arrears.dunning.services import company_policies
from arrears.dunning.stale import stale_checks
from arrears.dunning.still_due import notice_still_due
from arrears.ledger.models import Account, AccountParty
from arrears.ledger.selectors import open_items_as_of


def notices_recheck(
    rows: Sequence[Outbound],
    on: date,
    *,
    at: Callable[[Outbound], datetime] | None = None,
    guard: bool = True,
) -> list[Recheck]:
    """For each letter or email about to go out on `on`: cancel it (rule and reason), or its
    amount and deadline as of `on`. Reads only; `guard=False` leaves the guard to the caller
    (the email sender asks it at the minute of sending). `at` is when each goes (default: noon
    of `on` in the addressee's zone, as the run's letters)."""
    if not rows:
        return []
    policies = company_policies()
    pks = sorted({row.account_id for row in rows})
    accounts = {a.pk: a for a in Account.objects.filter(pk__in=pks).select_related("property")}
    items: dict[int, list[Any]] = defaultdict(list)
    for item in open_items_as_of(as_of=on, account_pks=pks):
        items[item.account_pk].append(item)
    roles: dict[tuple[int, int], str] = {
        (account_pk, party_pk): role
        for account_pk, party_pk, role in AccountParty.objects.filter(
            account_id__in=pks
        ).values_list("account_id", "party_id", "role")
    }
    overrides = dict(
        PolicyOverride.objects.filter(account_id__in=pks).values_list("account_id", "policy")
    )
    derived = derived_holds(pks, on)
    out = []
    for row in rows:
        account = accounts[row.account_id]
        check = _still_due(
            row,
            account,
            items[account.pk],
            roles,
            overrides,
            policies,
            on,
            derived.disputed(account.pk),
        )
        if not check.cancel and guard and row.party is not None:
            when = at(row) if at else _noon(account, row, on)
            who = addressee(
                account,
                row.party,
                when,
                policies,
                role=row.role or "primary",
                calls=False,
                derived=derived,
            )
            decision = _guard(answer_addressee(who, row.step), row.channel, when)
            if not decision.allowed and decision.rule != "hours":
                check = Recheck(cancel=decision.reason or decision.rule, rule=decision.rule)
        out.append(check)
    return out


def _noon(account: Account, row: Outbound, on: date) -> datetime:
    assert row.party is not None
    return datetime.combine(on, time(12, 0), tzinfo=ZoneInfo(_party_zone(account, row.party)))


def _still_due(
    row: Outbound,
    account: Account,
    items: list[Any],
    roles: dict[tuple[int, int], str],
    overrides: dict[int, str],
    policies: dict[str, Policy],
    on: date,
    disputed: tuple[bool, dict[str, Decimal]],
) -> Recheck:
    if row.party_id is not None and (account.pk, row.party_id) not in roles:
        return Recheck(
            cancel=f"{row.party.party_id if row.party else row.party_id} is no longer "
            f"a party of {account.account_id}",
            rule="step",
        )
    policy = policies.get(row.policy) if row.policy else None
    # A notice sent by hand is the step it stands for (`notices.notice_send` names it), and is
    # checked again as that step would be: paid, it is not printed either.
    step = None
    if policy is not None:
        by_hand = (row.detail or {}).get("policy_step", "")
        step = policy.find_step(row.step) or policy.find_step(by_hand)
    if policy is None or step is None:  # a dispute's answer, a letter of no step: its own figures
        return Recheck(amount=row.amount, deadline=row.deadline)
    moved_out = bool(account.closed_on and account.closed_on <= on)
    prop = account.property
    now_follows = choose_policy(
        policies,
        jurisdiction=jurisdiction_of(prop.country, prop.state) if prop else "",
        account_kind=account.kind,
        moved_out=moved_out,
        override=overrides.get(account.pk),
    )
    if now_follows is None or now_follows.name != policy.name:
        name = now_follows.name if now_follows else "no policy"
        return Recheck(cancel=f"{account.account_id} now follows {name}", rule="step")
    role = roles.get((account.pk, row.party_id)) if row.party_id is not None else None
    if role is not None and role not in step.audience:
        return Recheck(cancel=f"the step {step.key} is not for a {role} any more", rule="step")
    state = _state(account, items, moved_out, disputed)
    still = notice_still_due(step, state, _charge_of(row, account), on)
    if still.rule:
        return Recheck(cancel=still.reason, rule=still.rule)
    return Recheck(amount=still.amount, deadline=notice_deadline(policy, step, on))


def _state(
    account: Account,
    items: list[Any],
    moved_out: bool,
    disputed: tuple[bool, dict[str, Decimal]],
) -> AccountState:
    """What the planner sees of the account today, its parties aside."""
    charges = tuple(
        OpenCharge(r.txn_id, r.code, r.due_on, r.posted_on, r.amount)
        for r in items
        if not r.is_credit
    )
    credits = sum((r.amount for r in items if r.is_credit), Decimal(0))
    return AccountState(
        account_id=account.account_id,
        kind=account.kind,
        moved_out=moved_out,
        rent=account.rent,
        balance=sum((c.open_amount for c in charges), Decimal(0)) - credits,
        open_charges=charges,
        parties=(),
        disputed_whole=disputed[0],
        disputed=disputed[1],
    )


def _charge_of(row: Outbound, account: Account) -> str | None:
    """The charge a per-charge notice is about, from its idempotency key
    (`account:step:charge:party`, planning's module docstring); None when the key names none."""
    party = f":{row.party.party_id}" if row.party else ""
    head = f"{account.account_id}:{row.step}:"
    if not row.key.startswith(head) or not row.key.endswith(party):
        return None
    middle = row.key[len(head) : len(row.key) - len(party)]
    return middle or None


def _actions_follow(rows: Sequence[Outbound], checks: Sequence[Recheck]) -> None:
    """The notices' actions as their letters or emails went: closed with the reason when
    cancelled (off the worklist), else with the amount and deadline they went out with."""
    for row, check in zip(rows, checks, strict=True):
        if check.cancel:
            Action.objects.filter(key=row.key, status="queued").update(
                status="closed", rule=check.rule[:40], reason=f"cancelled: {check.cancel}"[:300]
            )
        else:
            Action.objects.filter(key=row.key).update(amount=check.amount, deadline=check.deadline)


def _letters_recheck(rows: Sequence[Outbound], on: date, actor: str) -> list[Recheck]:
    checks = notices_recheck(rows, on)
    # A notice that waited too long is re-dated or re-issued (dunning.stale).
    checks = stale_checks(rows, checks, on, policies=company_policies(), actor=actor)
    _actions_follow(rows, checks)
    return checks


def letters_print(
    *,
    on: date,
    output: Path,
    actor: str,
    workers: int = 2,
    progress: Callable[[int, int], None] | None = None,
    reprint: bool = False,
    batch: int | None = None,
    wait: float = 600,
) -> BatchResult:
    """Print the day's letters, each re-checked as it goes (module docstring): the letters batch
    of correspondence (`letters_batch`) with dunning's re-check; with CELERY_BROKER_URL their
    PDFs are rendered by the workers, waited for `wait` seconds. Returns what was printed and
    what was cancelled; raises ValidationError when another batch is being printed,
    NoWorkerError when no worker answers or renders within `wait`."""
    result = letters_batch(
        on=on,
        output=output,
        actor=actor,
        workers=workers,
        progress=progress,
        reprint=reprint,
        batch=batch,
        recheck=lambda rows, day: _letters_recheck(rows, day, actor),
        wait=wait,
    )
    # A letter that cannot be printed fails its action with the reason (it is not done).
    for failed in result.failed:
        Action.objects.filter(key=failed["key"], status="queued").update(
            status="failed", rule=failed["rule"][:40], reason=failed["reason"][:300]
        )
    return result


@transaction.atomic
def emails_recheck(*, on: date, actor: str) -> list[str]:
    """Before the sender prepares and sends: each email due by `on` and not yet sent is asked
    again (the guard excepted: the sender asks it at the minute of sending). What is no longer
    due is cancelled; a queued email is dated `on` with its figures of that day; an email
    prepared in an earlier pass whose figures changed is prepared again, under a new archive
    name (the archive never overwrites a name). Returns the keys of the cancelled emails."""
    rows = list(
        Outbound.objects.filter(channel="email", status__in=["queued", "rendered"], run_on__lte=on)
        .select_related("account", "party", "document")
        .order_by("id")
    )
    checks = notices_recheck(rows, on, guard=False)
    cancelled: list[str] = []
    changed_rows, changed_checks = [], []
    for row, check in zip(rows, checks, strict=True):
        if check.cancel:
            outbound_cancel(row, rule=check.rule, reason=check.cancel, on=on, actor=actor)
            cancelled.append(row.key)
        elif row.status == "queued" or (check.amount, check.deadline) != (row.amount, row.deadline):
            if row.status == "rendered":
                email_unprepare(row, on=on)
            outbound_dated(row, on=on, amount=check.amount, deadline=check.deadline, actor=actor)
        else:
            continue
        changed_rows.append(row)
        changed_checks.append(check)
    _actions_follow(changed_rows, changed_checks)
    return cancelled
