"""The coordinator's worklist: what to do today, one line per thing to do.

The lines are ordered by expected recovery: balance × likelihood, where the likelihood is the
account's own record over the last 12 months, (paid within 30 days of due) / (charged), kept
between 0.05 and 1, so that the order can be explained line by line.

A line leaves when its reason is dealt with: a collecting line (a call or text task, a deadline
expiring, a referral recommended, a new delinquency, a broken promise or plan) leaves an account
that is referred to an attorney (an open referral), held (an active hold on the account or its
tenant), promised (an open promise), planned (an active plan) or paid (nothing past due). A
hearing line (a referred account's case has a hearing within HEARING_WITHIN_DAYS days) is no
collecting line: it stays on a referred account, and leaves once the hearing's day has passed or
the case ended (closed, recalled). A coordinator sets a line aside by hand
(`snooze.worklist_snooze`, `worklist_dismiss`): snoozed until a date, dismissed while its reason
stays the same (`Line.ref`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils.translation import gettext, gettext_noop

from arrears.dunning.contact import mail_work_lines
from arrears.dunning.derived import worklist_lines
from arrears.dunning.guard import ActiveHold, CallHistory, contact_point, guard_check
from arrears.dunning.models import Action, Consent, ContactAttempt, Hold, WorklistSnooze
from arrears.dunning.undelivered import undelivered_work_lines
from arrears.dunning.workline import TAB_OF, Line
from arrears.dunning.worklist_detail import Detail, line_details
from arrears.dunning.zones import contact_zone
from arrears.ledger.models import Allocation, Transaction
from arrears.ledger.selectors import open_items_as_of
from arrears.legal.models import Referral
from arrears.legal.selectors import hearings_ahead
from arrears.moveout.selectors import deposits_due, refunds_due
from arrears.plans.models import Plan, Promise

LARGE_DELINQUENCY = Decimal("1000.00")
EXPIRING_WITHIN_DAYS = 3
NEW_DELINQUENCY_DAYS = 7
HEARING_WITHIN_DAYS = 7
TASKS = ("call", "text")
# A call or text task stays on the list this many days: by then its moment has passed (the
# notice it was to head off has run out, the next step has come) and it is stale.
TASK_DAYS = 10
CALL = gettext_noop("Call {party}: {step}")
TEXT = gettext_noop("Text {party}: {step}")
# The lines that are about collecting the balance: they leave once the account is referred,
# held, promised or planned (module docstring).
COLLECTING = frozenset(
    {"call", "text", "deadline", "referral", "new_delinquency", "broken_promise", "plan_broken"}
)


@dataclass(frozen=True)
class WorkItem:
    account_id: str
    kind: str  # call, text, email, email_failed, deadline, referral, new_delinquency,
    # broken_promise, plan_broken, dispute_overdue, deposit_due, refund_due, hearing
    detail: str  # the line as the cycle words it
    balance: Decimal
    likelihood: Decimal
    party_id: str | None = None
    action_id: int | None = None
    ref: str = ""
    why: str = ""
    facts: tuple[tuple[str, str], ...] = ()
    days_late: int = 0
    about: Detail = field(default_factory=Detail)

    @property
    def reason(self) -> str:
        """Why the line is there, in words for a person, in the reader's language."""
        if not self.why:
            return self.detail
        return gettext(self.why).format(**dict(self.facts))

    @property
    def tab(self) -> str:
        return TAB_OF.get(self.kind, "calls")

    @property
    def case_id(self) -> str:
        """The case a hearing line is about ("" for the other lines)."""
        return dict(self.facts).get("case", "") if self.kind == "hearing" else ""

    @property
    def expected(self) -> Decimal:
        return (self.balance * self.likelihood).quantize(Decimal("0.01"))

    @property
    def likelihood_percent(self) -> int:
        return int((self.likelihood * 100).quantize(Decimal(1)))

    def as_json(self) -> dict[str, Any]:
        a = self.about
        return {
            "account_id": self.account_id,
            "kind": self.kind,
            "reason": self.reason,
            "party_id": self.party_id,
            "balance": f"{self.balance:.2f}",
            "likelihood": f"{self.likelihood:.2f}",
            "expected_recovery": f"{self.expected:.2f}",
            "detail": self.detail,
            "tab": self.tab,
            "action_id": self.action_id,
            "tenant": a.name,
            "property": a.property_name,
            "unit": a.unit,
            "days_late": self.days_late,
            "likelihood_percent": self.likelihood_percent,
            "last_contact": None
            if a.last_contact_on is None
            else {
                "on": a.last_contact_on.isoformat(),
                "channel": a.last_contact_channel,
                "outcome": a.last_contact_outcome,
            },
            "next_step": a.next_step,
            "next_on": a.next_on.isoformat() if a.next_on else None,
        }


def likelihoods(account_pks: list[int], on: date) -> dict[int, Decimal]:
    """Share of the last 12 months' charges paid within 30 days of their due date."""
    since = on - timedelta(days=365)
    charged: dict[int, Decimal] = defaultdict(Decimal)
    for pk, amount in Transaction.objects.filter(
        account_id__in=account_pks, type="charge", due_on__gte=since, due_on__lte=on
    ).values_list("account_id", "amount"):
        charged[pk] += amount
    paid: dict[int, Decimal] = defaultdict(Decimal)
    for pk, amount, made, due in (
        Allocation.objects.filter(
            account_id__in=account_pks,
            charge__due_on__gte=since,
            charge__due_on__lte=on,
            made_on__lte=on,
        )
        .filter(Q(undone_on__isnull=True) | Q(undone_on__gt=on))
        .values_list("account_id", "amount", "made_on", "charge__due_on")
    ):
        if due is not None and (made - due).days <= 30:
            paid[pk] += amount
    out = {}
    for pk in account_pks:
        share = paid[pk] / charged[pk] if charged[pk] else Decimal("0.5")
        out[pk] = min(Decimal(1), max(Decimal("0.05"), share)).quantize(Decimal("0.01"))
    return out


def worklist(*, on: date, now: datetime | None = None, user: str | None = None) -> list[WorkItem]:
    """The coordinator's queue for the day, most expected recovery first; see module docstring.

    `user` is accepted for the coming per-user assignment; every line is shown today.
    """
    balance, oldest_due = _past_due(on)
    holds = _active_holds(on)
    lines = _task_lines(on, now, balance, holds)
    lines += [Line.of(raw) for raw in mail_work_lines()]  # mail that needs an answer
    lines += [Line.of(raw) for raw in undelivered_work_lines()]  # emails given up or bounced
    lines += _deadline_and_referral_lines(on, balance)
    for line in worklist_lines(on):  # broken promises, disputes open too long
        if line.kind == "dispute_overdue" or balance.get(line.account_pk, Decimal(0)) > 0:
            lines.append(line)
    lines += _new_delinquency_lines(on, balance, oldest_due)
    lines += _deposit_lines(on)
    lines += _refund_lines(on)
    lines += _hearing_lines(on)
    pks = sorted({line.account_pk for line in lines})
    details = line_details(pks, on, oldest_due)
    dealt = _dealt_with(pks, on, holds, {pk: d.primary_pk for pk, d in details.items()})
    unique = _set_aside(_one_each([ln for ln in lines if _open(ln, dealt)]), on)
    odds = likelihoods(sorted({line.account_pk for line in unique}), on)
    work = []
    for line in unique:
        pk = line.account_pk
        days_late = (on - oldest_due[pk]).days if pk in oldest_due else 0
        about = details[pk]
        work.append(
            WorkItem(
                about.account_id,
                line.kind,
                line.detail,
                balance.get(pk, Decimal(0)),
                odds[pk],
                line.party_id,
                line.action_id,
                line.ref,
                line.why,
                line.facts,
                days_late,
                about,
            )
        )
    work.sort(key=lambda w: (-w.expected, w.account_id, w.kind))
    return work


def _deposit_lines(on: date) -> list[Line]:
    """Deposits whose itemized statement is due within 5 days or overdue, none sent yet
    (`moveout.selectors.deposits_due`); where missing the deadline forfeits the deposit (N.Y. Gen.
    Oblig. Law §7-108(1-a)(e)) the line says so."""
    lines = []
    for d in deposits_due(on):
        facts = (
            ("due", d.due.isoformat()),
            ("vacated", d.vacated.isoformat()),
            ("deposit", f"{d.deposit:,.2f}"),
            ("law", d.law or "-"),
        )
        if d.due < on:
            why = (
                gettext_noop(
                    "Deposit statement overdue since {due} (vacated {vacated}): the right to keep "
                    "any of the {deposit} deposit is forfeited ({law})"
                )
                if d.forfeits
                else gettext_noop(
                    "Deposit statement overdue since {due} (vacated {vacated}, deposit {deposit})"
                )
            )
        else:
            why = (
                gettext_noop(
                    "Deposit statement due by {due} (vacated {vacated}): after it the right to "
                    "keep any of the {deposit} deposit is forfeited ({law})"
                )
                if d.forfeits
                else gettext_noop(
                    "Deposit statement due by {due} (vacated {vacated}, deposit {deposit})"
                )
            )
        detail = f"deposit statement due {d.due.isoformat()} (vacated {d.vacated.isoformat()})"
        lines.append(
            Line(d.account_pk, "deposit_due", detail, ref=f"deposit:{d.due}", why=why, facts=facts)
        )
    return lines


def _refund_lines(on: date) -> list[Line]:
    """Refunds still to pay (proposed, or approved and not sent to payables) due within 3 days
    or late (`moveout.selectors.refunds_due`, one query); a student's line says that 34 CFR
    §668.164(h)(2) asks for a Title IV credit balance to be paid within 14 days. The line comes
    back, once dismissed, when the refund turns late."""
    lines = []
    for r in refunds_due(on):
        late = r.due < on
        facts = (
            ("refund", r.refund_id),
            ("amount", f"{r.amount:,.2f}"),
            ("due", r.due.isoformat()),
            ("law", "34 CFR §668.164(h)(2)"),
        )
        if r.student:
            why = (
                gettext_noop(
                    "Refund {refund} of {amount} overdue since {due}: {law} asks for a student's "
                    "credit balance to be paid within 14 days"
                )
                if late
                else gettext_noop(
                    "Refund {refund} of {amount} due by {due}: {law} asks for a student's credit "
                    "balance to be paid within 14 days"
                )
            )
        else:
            why = (
                gettext_noop(
                    "Refund {refund} of {amount} overdue since {due}: approve it and pay it"
                )
                if late
                else gettext_noop("Refund {refund} of {amount} due by {due}: approve it and pay it")
            )
        detail = f"refund {r.refund_id} ({r.status}) due {r.due.isoformat()}"
        ref = f"refund:{r.refund_id}:{r.due}:{'late' if late else 'due'}"
        lines.append(Line(r.account_pk, "refund_due", detail, ref=ref, why=why, facts=facts))
    return lines


def _hearing_lines(on: date) -> list[Line]:
    """The hearings of open cases from `on` to HEARING_WITHIN_DAYS days ahead (one query): a
    line each, whose ref is the case and the day, so that a hearing moved to another day comes
    back once dismissed."""
    lines = []
    for case in hearings_ahead(on=on, days=HEARING_WITHIN_DAYS):
        assert case.hearing_on is not None
        day = case.hearing_on.isoformat()
        facts = (
            ("day", day),
            ("court", case.court or "—"),
            ("index", case.index_number or "—"),
            ("case", str(case.pk)),
            ("firm", case.firm),
        )
        detail = (
            f"hearing on {day} at {case.court or '-'}, index {case.index_number or '-'}, "
            f"case {case.pk} ({case.firm})"
        )
        lines.append(
            Line(
                case.account_id,
                "hearing",
                detail,
                ref=f"hearing:{case.pk}:{day}",
                why=gettext_noop(
                    "Hearing on {day} at {court}, index {index}, case {case} ({firm})"
                ),
                facts=facts,
            )
        )
    return lines


def _open(line: Line, dealt: set[int]) -> bool:
    return not (line.kind in COLLECTING and line.account_pk in dealt)


def _one_each(lines: list[Line]) -> list[Line]:
    """One line per account and kind of work (a call task stays one line per task), keeping the
    latest: a referral recommended twice is one thing to do."""
    latest: dict[tuple[int, str, int | None], Line] = {}
    for line in lines:
        key = (line.account_pk, line.kind, line.action_id if line.kind in TASKS else None)
        current = latest.get(key)
        if current is None or (line.action_id or 0) > (current.action_id or 0):
            latest[key] = line
    return list(latest.values())


def _set_aside(lines: list[Line], on: date) -> list[Line]:
    """The lines no coordinator has snoozed past `on` or dismissed while their reason stands."""
    pks = {line.account_pk for line in lines}
    snoozed: set[tuple[int, str, int | None]] = set()
    dismissed: set[tuple[int, str, str]] = set()
    for pk, kind, action, ref, until in WorklistSnooze.objects.filter(
        account_id__in=pks
    ).values_list("account_id", "kind", "action_id", "ref", "until"):
        if until is None:
            dismissed.add((pk, kind, ref))
        elif until > on:
            snoozed.add((pk, kind, action if kind in TASKS else None))
    return [
        line
        for line in lines
        if (line.account_pk, line.kind, line.ref) not in dismissed
        and (line.account_pk, line.kind, line.action_id if line.kind in TASKS else None)
        not in snoozed
    ]


def _dealt_with(
    pks: list[int], on: date, holds: dict[int, list[ActiveHold]], primary: dict[int, int | None]
) -> set[int]:
    """The accounts whose collection someone has taken in hand: referred to an attorney, held
    (the account, or its tenant), promised or planned."""
    out = set(
        Referral.objects.filter(account_id__in=pks, withdrawn_on__isnull=True).values_list(
            "account_id", flat=True
        )
    )
    out |= set(
        Promise.objects.filter(account_id__in=pks, status="open").values_list(
            "account_id", flat=True
        )
    )
    out |= set(
        Plan.objects.filter(account_id__in=pks, status="active").values_list(
            "account_id", flat=True
        )
    )
    for pk, party_pk in Hold.objects.filter(
        Q(until__isnull=True) | Q(until__gte=on),
        account_id__in=pks,
        released_at__isnull=True,
        placed_on__lte=on,
    ).values_list("account_id", "party_id"):
        if party_pk is None or party_pk == primary.get(pk):
            out.add(pk)
    return out


def _past_due(on: date) -> tuple[dict[int, Decimal], dict[int, date]]:
    """What is past due on the date, by account: charges due before it, less unapplied credit
    (rent posted ahead of its due date is owed, but not yet late); and the oldest such charge's
    due date."""
    balance: dict[int, Decimal] = defaultdict(Decimal)
    oldest_due: dict[int, date] = {}
    for item in open_items_as_of(as_of=on):
        if item.is_credit:
            balance[item.account_pk] -= item.amount
        elif item.due_on is not None and item.due_on < on:
            balance[item.account_pk] += item.amount
            oldest_due[item.account_pk] = min(
                oldest_due.get(item.account_pk, item.due_on), item.due_on
            )
    return balance, oldest_due


def _active_holds(on: date) -> dict[int, list[ActiveHold]]:
    holds: dict[int, list[ActiveHold]] = defaultdict(list)
    for h in Hold.objects.filter(released_at__isnull=True, placed_on__lte=on).select_related(
        "party"
    ):
        holds[h.account_id].append(
            ActiveHold(h.reason, h.party.party_id if h.party else None, h.until)
        )
    return holds


def _task_lines(
    on: date, now: datetime | None, balance: dict[int, Decimal], holds: dict[int, list[ActiveHold]]
) -> list[Line]:
    """The call and text tasks of accounts past due that the guard allows now, of the last
    TASK_DAYS days."""
    lines: list[Line] = []
    tasks = Action.objects.filter(
        status="task", run_on__lte=on, run_on__gt=on - timedelta(days=TASK_DAYS)
    ).select_related("account", "party", "account__property")
    recent: dict[tuple[int, int | None], list[tuple[datetime, bool]]] = defaultdict(list)
    week_ago = datetime.combine(on - timedelta(days=8), time(0), tzinfo=ZoneInfo("UTC"))
    for a_pk, p_pk, at_, talked in ContactAttempt.objects.filter(
        channel="call", at__gte=week_ago
    ).values_list("account_id", "party_id", "at", "conversation"):
        recent[(a_pk, p_pk)].append((at_, talked))
    consents: dict[int, list[tuple[str, bool]]] = defaultdict(list)
    for party_pk, channel, granted in (
        Consent.objects.filter(party_id__in=tasks.values("party_id"))
        .order_by("at", "id")
        .values_list("party_id", "channel", "granted")
    ):
        consents[party_pk].append((channel, granted))
    for task in tasks:
        if balance.get(task.account_id, Decimal(0)) <= 0:
            continue
        calls = CallHistory.of(recent.get((task.account_id, task.party_id), ()))
        if not _task_allowed(task, on, now, holds[task.account_id], consents, calls):
            continue
        party = task.party
        kind = "call" if task.channel == "call" else "text"
        why = CALL if kind == "call" else TEXT
        lines.append(
            Line(
                task.account_id,
                kind,
                f"{task.step}: {task.template} ({task.policy})",
                party.party_id if party else None,
                task.pk,
                ref=task.key,
                why=why,
                facts=(("party", party.name if party else ""), ("step", _words(task.step))),
            )
        )
    return lines


def _words(key: str) -> str:
    """A step's key as words: "rent-demand" → "rent demand"."""
    return key.replace("-", " ").replace("_", " ")


def _task_allowed(
    task: Action,
    on: date,
    now: datetime | None,
    holds: list[ActiveHold],
    consents: dict[int, list[tuple[str, bool]]],
    calls: CallHistory,
) -> bool:
    party = task.party
    prop = task.account.property
    zone = contact_zone(
        party.timezone if party else None,
        party.state if party else None,
        prop.timezone if prop else None,
        prop.state if prop else None,
    )
    at = now or datetime.combine(on, time(12, 0), tzinfo=ZoneInfo(zone))
    # The guard sees the party as the run saw it (consents and opt-outs given since included);
    # a call or a text goes to no postal address, so returned mail does not matter here.
    contact = contact_point(
        party_id=party.party_id if party else "",
        role=task.role or "",
        timezone=zone,
        email=party.email if party else None,
        address=party.address if party else None,
        phone=party.phone if party else None,
        unit_address=prop.address if prop else None,
        consents=consents.get(task.party_id or 0, ()),
        address_returned=False,
    )
    decision = guard_check(
        action="notice", channel=task.channel, at=at, holds=holds, contact=contact, calls=calls
    )
    return decision.allowed


def _deadline_and_referral_lines(on: date, balance: dict[int, Decimal]) -> list[Line]:
    """Deadlines that expire within days unpaid, and referrals recommended, of accounts past
    due."""
    lines: list[Line] = []
    for a in Action.objects.filter(
        deadline__gte=on,
        deadline__lte=on + timedelta(days=EXPIRING_WITHIN_DAYS),
        status__in=["queued", "done"],
    ).only("account_id", "step", "deadline", "party", "key"):
        if balance.get(a.account_id, Decimal(0)) > 0:
            assert a.deadline is not None
            lines.append(
                Line(
                    a.account_id,
                    "deadline",
                    f"{a.step} expires {a.deadline:%Y-%m-%d} unpaid",
                    action_id=a.pk,
                    ref=a.key,
                    why=gettext_noop(
                        "The {step} runs out on {deadline}, unpaid: call before it does"
                    ),
                    facts=(("step", _words(a.step)), ("deadline", a.deadline.isoformat())),
                )
            )
    for a in Action.objects.filter(action__in=["recommend_referral", "referral"], status="done"):
        if balance.get(a.account_id, Decimal(0)) > 0:
            lines.append(
                Line(
                    a.account_id,
                    "referral",
                    f"{a.step}: referral to the attorney recommended on {a.run_on:%Y-%m-%d}",
                    action_id=a.pk,
                    ref=a.key,
                    why=gettext_noop("Refer to an attorney? The policy recommends it since {on}"),
                    facts=(("on", a.run_on.isoformat()),),
                )
            )
    return lines


def _new_delinquency_lines(
    on: date, balance: dict[int, Decimal], oldest_due: dict[int, date]
) -> list[Line]:
    """Large balances that fell past due within the week."""
    return [
        Line(
            pk,
            "new_delinquency",
            f"{balance[pk]:.2f} past due since {start:%Y-%m-%d}",
            ref=f"since:{start.isoformat()}",
            why=gettext_noop("{amount} newly past due since {since}: call before it grows"),
            facts=(("amount", f"{balance[pk]:,.2f}"), ("since", start.isoformat())),
        )
        for pk, start in oldest_due.items()
        if (on - start).days <= NEW_DELINQUENCY_DAYS and balance[pk] >= LARGE_DELINQUENCY
    ]
