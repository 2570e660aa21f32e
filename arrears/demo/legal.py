"""The demo's referrals as a coordinator and two law firms handle them: Hudson & Pike LLP takes
the New York, New Jersey and Connecticut cases (25% contingency, a flat fee), Bayview Tenant Law
the California ones (30%). Each day of the demo's cycle, some of the accounts the policy
recommended for referral two days earlier are referred (the demo's paper files hold the leases
and proofs of service the archive lacks, which the coordinator says as the reason to send
anyway); the firms then accept, file, set hearings and win judgments as the days pass; one
tenant pays in full and the case is recalled; one case settles for 70% in two parts, waiting
for the controller's approval; and Hudson & Pike's monthly meeting is held with its minutes.
All through the same services as `arrears refer`, `arrears case update`, `arrears settlement
offer` and `arrears legal minutes`."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from arrears.core.errors import DomainError
from arrears.dunning.casefile import referral_send
from arrears.dunning.models import Action
from arrears.ledger.models import Account
from arrears.ledger.selectors import account_ledger
from arrears.legal import services as legal
from arrears.legal.models import Firm, Meeting, Referral, Settlement
from arrears.legal.schedule import Due
from arrears.legal.settlements import settlement_offer

HUDSON = "Hudson & Pike LLP"
BAYVIEW = "Bayview Tenant Law"
TAKES = {HUDSON: ("NY", "NJ", "CT"), BAYVIEW: ("CA",)}
FIRMS = {
    HUDSON: {
        "kind": "law",
        "contingency_percent": Decimal("25"),
        "flat_fee": Decimal("350.00"),
        "email": "intake@hudsonpike.example",
    },
    BAYVIEW: {
        "kind": "law",
        "contingency_percent": Decimal("30"),
        "flat_fee": Decimal("0"),
        "email": "cases@bayviewtenantlaw.example",
    },
}
DECIDE_AFTER_DAYS = (
    2  # the coordinator decides on a recommendation two days after it at the soonest
)
DECIDE_WITHIN_DAYS = 14  # … and within two weeks of it
REFER_ONE_IN = 2  # half the recommendations are referred, the others wait (the agenda says so)
MOST_CASES = 7  # at each firm
SMALLEST_REFERRAL = Decimal("1000.00")  # less is not worth a firm's fee
REFER_EVERY_DAYS = 6  # a firm gets a new case at most once in so many days
PAPER_FILE = (
    "the signed lease and the process server's affidavits are in the paper file; "
    "the firm receives them by courier"
)
# A case's course, in days after it was referred.
ACCEPTED_AFTER, FILED_AFTER, HEARING_SET_AFTER, HEARING_IN = 3, 9, 16, 21
COURTS = {
    "NY": "Civil Court of the City of New York, Housing Part",
    "NJ": "Superior Court of New Jersey, Special Civil Part, Landlord/Tenant",
    "CT": "Connecticut Superior Court, Housing Session",
    "CA": "Superior Court of California, Unlawful Detainer",
}


def _firm_for(state: str) -> str | None:
    return next((name for name, states in TAKES.items() if state in states), None)


def _firms(on: date) -> None:
    for name, terms in FIRMS.items():
        if not Firm.objects.filter(name=name).exists():
            legal.firm_add(name=name, on=on, jurisdictions=list(TAKES[name]), **terms)  # type: ignore[arg-type]


def demo_legal(*, on: date, first_day: date, actor: str) -> list[str]:
    """What the coordinator and the firms do on the demo's day `on`; a line for each."""
    _firms(first_day)
    done = _referrals(on, actor)
    for case in Referral.objects.filter(withdrawn_on__isnull=True).select_related(
        "account__property"
    ):
        done += _course(case, on)
    done += _meeting(on, first_day)
    return done


def _referrals(on: date, actor: str) -> list[str]:
    """Refer some of the accounts whose referral was recommended two days ago."""
    done = []
    recommended = (
        Action.objects.filter(
            action="recommend_referral",
            status="done",
            run_on__lte=on - timedelta(days=DECIDE_AFTER_DAYS),
            run_on__gt=on - timedelta(days=DECIDE_WITHIN_DAYS),
        )
        .select_related("account__property")
        .order_by("account__account_id")
    )
    for action in recommended:
        account: Account = action.account
        rng = random.Random(account.account_id)  # noqa: S311 (a demo's choice, not a secret)
        state = account.property.state if account.property else ""
        firm = _firm_for(state)
        if firm is None or rng.randrange(REFER_ONE_IN) != 0:
            continue
        owed = account_ledger(account_id=account.account_id, as_of=on, account=account).balance
        if owed < SMALLEST_REFERRAL:
            continue
        cases = Referral.objects.filter(firm=firm)
        if (
            cases.count() >= MOST_CASES
            or cases.filter(referred_on__gt=on - timedelta(days=REFER_EVERY_DAYS)).exists()
        ):
            continue
        if Referral.objects.filter(account=account).exists():
            continue
        try:
            referral_send(account=account, firm=firm, on=on, actor=actor, override=PAPER_FILE)
        except DomainError as exc:  # a firm that does not take it, a balance paid meanwhile
            done.append(f"{account.account_id} not referred: {exc.message}")
            continue
        done.append(f"{account.account_id} referred to {firm} on {on}")
    return done


def _course(case: Referral, on: date) -> list[str]:
    """The firm's steps on the case as the days pass, and the tenant's payments' effect."""
    age = (on - case.referred_on).days
    state = case.account.property.state if case.account.property else "NY"
    balance = account_ledger(
        account_id=case.account.account_id, as_of=on, account=case.account
    ).balance
    actor = "h.pike" if case.firm == HUDSON else "bayview.intake"
    if balance <= 0 and case.status not in ("satisfied", "settled"):
        legal.case_update(
            case=case,
            status="recalled",
            on=on,
            actor="cycle",
            today=on,
            note="the tenant paid the balance in full",
        )
        return [f"case {case.pk} recalled: {case.account.account_id} paid in full"]
    step: dict[str, str | Decimal | None] | None = None
    if case.status == "sent" and age >= ACCEPTED_AFTER:
        step = {"status": "accepted"}
    elif case.status == "accepted" and age >= FILED_AFTER:
        number = (
            f"LT-{300000 + case.pk * 37:06d}-{on:%y}"
            if state != "CA"
            else f"UD{on:%y}{case.pk:05d}"
        )
        step = {"status": "filed", "index_number": number, "court": COURTS.get(state, "")}
    elif case.status == "filed" and age >= HEARING_SET_AFTER:
        legal.case_update(
            case=case,
            status="hearing",
            on=on + timedelta(days=HEARING_IN),
            actor=actor,
            today=on,
            note="first appearance",
        )
        return [f"case {case.pk}: hearing set for {on + timedelta(days=HEARING_IN)}"]
    elif case.status == "hearing" and case.hearing_on is not None and case.hearing_on <= on:
        step = {"status": "judgment", "amount": balance, "note": "judgment for the petitioner"}
    elif case.status == "judgment" and not Settlement.objects.filter(case=case).exists():
        return _settlement(case, on, balance)
    if step is None:
        return []
    legal.case_update(
        case=case,
        on=on,
        actor=actor,
        today=on,
        status=str(step["status"]),
        index_number=str(step.get("index_number") or ""),
        court=str(step.get("court") or ""),
        amount=step.get("amount") if isinstance(step.get("amount"), Decimal) else None,  # type: ignore[arg-type]
        note=str(step.get("note") or ""),
    )
    return [f"case {case.pk} ({case.account.account_id}): {step['status']}"]


def _settlement(case: Referral, on: date, balance: Decimal) -> list[str]:
    """The first judgment settles for 70% of the balance in two parts, offered by the firm's
    attorney and waiting for the controller's approval."""
    if Settlement.objects.exists():
        return []
    amount = (balance * Decimal("0.70")).quantize(Decimal("0.01"))
    first = (amount / 2).quantize(Decimal("0.01"))
    settlement_offer(
        case=case,
        amount=amount,
        installments=[
            Due(on + timedelta(days=7), first),
            Due(on + timedelta(days=37), amount - first),
        ],
        actor="h.pike" if case.firm == HUDSON else "bayview.intake",
        today=on,
        note="stipulation: 70% in two parts, the rest forgiven when paid",
    )
    return [f"case {case.pk}: a settlement of {amount} offered, waiting for approval"]


def _meeting(on: date, first_day: date) -> list[str]:
    """Hudson & Pike's meeting of the demo's first full month, held on its last weekday-ish
    day: a note on each of its cases then open."""
    month_end = (on.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    if on != month_end - timedelta(days=2) or on - first_day < timedelta(days=25):
        return []
    month = f"{on:%Y-%m}"
    if Meeting.objects.filter(firm=HUDSON, month=month).exists():
        return []
    cases = list(Referral.objects.filter(firm=HUDSON, withdrawn_on__isnull=True).order_by("pk"))
    if not cases:
        return []
    notes = {
        c.pk: (
            "the firm asks for the original lease by courier"
            if c.status in ("sent", "accepted")
            else "on track; the coordinator sends the ledger as of the hearing's eve"
        )
        for c in cases
    }
    legal.minutes_record(firm=HUDSON, month=month, held_on=on, notes=notes, actor="demo")
    return [f"meeting with {HUDSON} of {month}: minutes of {len(notes)} case(s)"]
