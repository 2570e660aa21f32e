"""What each worklist line shows about its account: the tenant's name, the property and unit,
the last contact, and the next step the daily run would take, with its date.

Read for all the lines at once, by a fixed handful of queries whatever their number (the
worklist has a p95 target of 300 ms on a 10,000-account book), never one per line.

The next step is the policy's first step not yet done in this delinquency whose day is today or
later: a day-count step from the oldest charge past due (`days_past_due`, or the day after a
grace period), a step after another from the day that one was done (`after_step` +
`after_days`). Monthly statements and reminders before the due date are no rung of the ladder
and are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Max, Q

from arrears.core.dates import book_zone
from arrears.correspondence.models import Outbound
from arrears.dunning.models import Action, ContactAttempt, PolicyOverride
from arrears.dunning.policy import Policy, Step, choose_policy, jurisdiction_of
from arrears.ledger.models import Account, AccountParty

# The statuses of an action whose step counts as taken (a refused or failed one does not).
STEP_TAKEN = ("done", "queued", "task", "closed")


@dataclass(frozen=True)
class Detail:
    account_id: str = ""
    name: str = ""  # the primary party's
    primary_pk: int | None = None
    party_id: str = ""  # the primary party's id (P-…), for the line's call and promise forms
    property_name: str = ""
    unit: str = ""
    last_contact_on: date | None = None
    last_contact_channel: str = ""
    last_contact_outcome: str = ""
    next_step: str = ""  # its key, in words ("rent demand"); the pages name it by its letter
    next_template: str = ""
    next_action: str = ""
    next_on: date | None = None


def line_details(pks: Sequence[int], on: date, oldest_due: dict[int, date]) -> dict[int, Detail]:
    """Each account's `Detail`, by account pk."""
    from arrears.dunning.services import company_policies

    if not pks:
        return {}
    accounts = {a.pk: a for a in Account.objects.filter(pk__in=pks).select_related("property")}
    primary: dict[int, tuple[int | None, str, str]] = {}
    for pk, party_pk, code, name in (
        AccountParty.objects.filter(account_id__in=pks, role="primary")
        .order_by("id")
        .values_list("account_id", "party_id", "party__party_id", "party__name")
    ):
        primary.setdefault(pk, (party_pk, code, name))
    contacts = last_contacts(pks)
    overrides = dict(
        PolicyOverride.objects.filter(account_id__in=pks).values_list("account_id", "policy")
    )
    done: dict[int, dict[str, date]] = {}
    for pk, step, last in (
        Action.objects.filter(account_id__in=pks, status__in=STEP_TAKEN)
        .values("account_id", "step")
        .annotate(last=Max("run_on"))
        .values_list("account_id", "step", "last")
    ):
        done.setdefault(pk, {})[step] = last
    policies = company_policies()
    out = {}
    for pk in pks:
        account = accounts[pk]
        prop = account.property
        policy = choose_policy(
            policies,
            jurisdiction=jurisdiction_of(prop.country, prop.state) if prop else "",
            account_kind=account.kind,
            moved_out=account.closed_on is not None and account.closed_on <= on,
            override=overrides.get(pk),
        )
        rung, step_on = (
            next_step(policy, oldest_due[pk], done.get(pk, {}), on)
            if policy is not None and pk in oldest_due
            else (None, None)
        )
        primary_pk, code, name = primary.get(pk, (None, "", ""))
        last = contacts.get(pk, (None, "", ""))
        out[pk] = Detail(
            account_id=account.account_id,
            name=name,
            primary_pk=primary_pk,
            party_id=code,
            property_name=prop.name if prop else "",
            unit=account.unit or "",
            last_contact_on=last[0],
            last_contact_channel=last[1],
            last_contact_outcome=last[2],
            next_step=rung.key.replace("-", " ") if rung is not None else "",
            next_template=(rung.template or "") if rung is not None else "",
            next_action=rung.action if rung is not None else "",
            next_on=step_on,
        )
    return out


def last_contacts(
    pks: Sequence[int], until: date | None = None
) -> dict[int, tuple[date, str, str]]:
    """The latest contact with each account (on or before `until`, if given): a call or text
    logged (with its outcome), a letter printed for mailing, mailed or returned, an email sent or
    bounced. The worklist's and the reports' one reckoning of "last contact"."""
    last: dict[int, tuple[date, str, str]] = {}
    outbound = Outbound.objects.filter(
        account_id__in=pks, status__in=["rendered", "mailed", "sent", "returned", "bounced"]
    )
    attempts = ContactAttempt.objects.filter(account_id__in=pks)
    if until is not None:
        # each status's day as `keep` below reads it, on or before `until` in the book's zone
        end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=book_zone())
        outbound = outbound.filter(
            Q(status="rendered", dated_on__lte=until)
            | Q(status="mailed", mailed_on__lte=until)
            | Q(status="mailed", mailed_on__isnull=True, dated_on__lte=until)
            | Q(status="returned", returned_on__lte=until)
            | Q(status__in=["sent", "bounced"], sent_at__lt=end)
        )
        attempts = attempts.filter(at__lt=end)

    def keep(pk: int, on: date | None, channel: str, outcome: str) -> None:
        if on is not None and (pk not in last or on >= last[pk][0]):
            last[pk] = (on, channel, outcome)

    grouped = (
        outbound.values("account_id", "channel", "status")
        .annotate(
            dated=Max("dated_on"),
            mailed=Max("mailed_on"),
            sent=Max("sent_at"),
            returned=Max("returned_on"),
        )
        .values_list("account_id", "channel", "status", "dated", "mailed", "sent", "returned")
    )
    for pk, channel, status, dated, mailed, sent, returned in grouped:
        # a letter printed for mailing went out that day (dated), whether or not its mailing was
        # recorded since
        day = {"rendered": dated, "returned": returned, "mailed": mailed or dated}.get(
            status, sent.astimezone(book_zone()).date() if sent is not None else None
        )
        keep(pk, day, channel, "printed" if status == "rendered" else status)
    latest = attempts.values("account_id").annotate(at=Max("at")).values_list("account_id", "at")
    wanted = dict(latest)
    if wanted:
        for pk, at, channel, outcome in attempts.filter(
            account_id__in=list(wanted), at__in=set(wanted.values())
        ).values_list("account_id", "at", "channel", "outcome"):
            if wanted.get(pk) == at:
                keep(pk, at.astimezone(book_zone()).date(), channel, outcome)
    return last


def next_step(
    policy: Policy, start: date, done: dict[str, date], on: date
) -> tuple[Step | None, date | None]:
    """The policy's next rung for a delinquency that started on `start` (module docstring), and
    its day; (None, None) when none is left. `done` is each step's latest day taken. The one
    reckoning of the worklist's "next step" and the account page's status strip."""
    best: tuple[date, Step] | None = None
    for step in policy.steps:
        if step.day_of_month is not None or step.days_before_due is not None:
            continue
        if done.get(step.key, date.min) >= start:
            continue  # done in this delinquency
        day: date | None = None
        if step.after_step is not None:
            then = done.get(step.after_step)
            if then is not None and then >= start:
                day = then + timedelta(days=step.after_days or 0)
        elif step.grace_days_exclusive is not None:
            day = start + timedelta(days=step.grace_days_exclusive + 1)
        elif step.days_past_due is not None:
            day = start + timedelta(days=step.days_past_due)
        if day is not None and day >= on and (best is None or day < best[0]):
            best = (day, step)
    return (None, None) if best is None else (best[1], best[0])
