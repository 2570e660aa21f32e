"""`arrears promise …` and `arrears plan …`: promises to pay and payment plans."""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from arrears.cli.acting import by, cli_job
from arrears.cli.common import amount, command, date, ensure_migrated, money, table, write_json


def cmd_promise(args: argparse.Namespace) -> int:

    ensure_migrated()
    if args.promise_command == "rate":
        from arrears.plans.selectors import promise_kept_rate

        rates = promise_kept_rate(since=args.since, until=args.until)
        if args.format == "json":
            write_json([r.as_json() for r in rates])
            return 0
        table(
            ["coordinator", "kept", "broken", "kept rate"],
            [
                [
                    r.coordinator,
                    str(r.kept),
                    str(r.broken),
                    "" if r.rate is None else f"{r.rate:.1%}",
                ]
                for r in rates
            ],
            sys.stdout,
            numeric=range(1, 4),
        )
        return 0
    from arrears.access import acts

    promise = acts.promise_record(
        by=by(args),
        account_id=args.account_id,
        amount=args.amount,
        promised_on=args.date,
        party_id=args.party,
        channel=args.channel,
        confirm=args.confirm,
    )
    print(
        f"Promise {promise.pk} recorded on {args.account_id}: {money(f'{promise.amount:.2f}')}"
        f" by {promise.promised_on} ({promise.grace_days} days' grace)."
    )
    return 0


def _plan_json(plan: Any, tracking: Any) -> dict[str, Any]:
    return {
        "plan_id": plan.pk,
        "account_id": plan.account.account_id,
        "status": plan.status,
        "amount": f"{plan.amount:.2f}",
        "down_payment": f"{plan.down_payment:.2f}",
        "frequency": plan.frequency,
        "start": plan.start_on.isoformat(),
        "made_on": plan.made_on.isoformat(),
        "grace_days": plan.grace_days,
        "require_current": plan.require_current,
        "charges": plan.charges,
        "supersedes": plan.supersedes_id,
        "ended_on": plan.ended_on and plan.ended_on.isoformat(),
        "end_reason": plan.end_reason,
        "disputed_excluded": f"{plan.disputed_excluded:.2f}",
        "disputes": plan.disputes,
        "installments": [
            {
                "label": line.label,
                "due_on": line.due_on.isoformat(),
                "amount": f"{line.amount:.2f}",
                "paid": f"{line.paid:.2f}",
                "status": line.status,
            }
            for line in tracking.lines
        ],
        "broken_on": tracking.broken_on and tracking.broken_on.isoformat(),
    }


def _show_plan(plan: Any, fmt: str) -> int:
    from arrears.core.dates import today
    from arrears.plans.selectors import plan_tracking

    tracking = plan_tracking(plan=plan, on=today())
    doc = _plan_json(plan, tracking)
    if fmt == "json":
        write_json(doc)
        return 0
    print(
        f"Plan {plan.pk} on {doc['account_id']}: {money(doc['amount'])} "
        f"({doc['frequency']}, {plan.grace_days} days' grace), {plan.status}"
        + (f" on {plan.ended_on}: {plan.end_reason}" if plan.ended_on else "")
    )
    table(
        ["", "due", "amount", "paid", "status"],
        [
            [i["label"], i["due_on"], money(i["amount"]), money(i["paid"]), i["status"]]
            for i in doc["installments"]
        ],
        sys.stdout,
        numeric=range(2, 4),
    )
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    from arrears.core.dates import today
    from arrears.plans.selectors import plan_get

    ensure_migrated()
    on = today()
    reads = {"propose": _propose, "show": _plan_show, "agreement": _plan_agreement}
    if args.plan_command in reads:
        return reads[args.plan_command](args, on)
    if args.plan_command == "create":
        return _plan_create(args)
    # The other acts are on a plan: the user is authorized on its account, as on the page.
    account_id = plan_get(plan_id=args.plan_id).account.account_id
    changes = {"renegotiate": _plan_renegotiate, "cancel": _plan_cancel, "send": _plan_send}
    return changes[args.plan_command](args, on, account_id)


def _plan_show(args: argparse.Namespace, on: Any) -> int:
    from arrears.plans.selectors import plan_get

    return _show_plan(plan_get(plan_id=args.plan_id), args.format)


def _plan_agreement(args: argparse.Namespace, on: Any) -> int:
    from arrears.plans.agreement import agreement_pdf
    from arrears.plans.selectors import plan_get

    data = agreement_pdf(plan_get(plan_id=args.plan_id), args.language)
    Path(args.output).write_bytes(data)
    print(f"Agreement of plan {args.plan_id} ({args.language}) written to {args.output}")
    return 0


def _plan_create(args: argparse.Namespace) -> int:
    from arrears.access import acts
    from arrears.plans.selectors import plan_get

    plan = acts.plan_create(
        by=by(args), account_id=args.account_id, terms=_terms(args), charges=args.charge or ()
    )
    return _show_plan(plan_get(plan_id=plan.pk), args.format)


def _plan_renegotiate(args: argparse.Namespace, on: Any, account_id: str) -> int:
    from arrears.access import acts
    from arrears.plans.selectors import plan_get

    plan = acts.plan_renegotiate(
        by=by(args),
        account_id=account_id,
        plan_id=args.plan_id,
        reason=args.reason,
        terms=_terms(args),
    )
    return _show_plan(plan_get(plan_id=plan.pk), args.format)


def _plan_cancel(args: argparse.Namespace, on: Any, account_id: str) -> int:
    from arrears.access import acts

    plan = acts.plan_cancel(
        by=by(args), account_id=account_id, plan_id=args.plan_id, reason=args.reason
    )
    print(f"Plan {plan.pk} cancelled: {plan.end_reason}")
    return 0


def _plan_send(args: argparse.Namespace, on: Any, account_id: str) -> int:
    # Through dunning: the guard, then correspondence's mail path (EMAIL_URL).
    from arrears.dunning.documents import plan_agreement_email

    # Sent at once, its try committed first: audited as a change that commits as it goes.
    sent = cli_job(
        args,
        "plan.send",
        account_id=account_id,
        system=False,
        detail={"plan": args.plan_id, "language": args.language or ""},
        do=lambda name: plan_agreement_email(
            plan_id=args.plan_id, on=on, actor=name, language=args.language
        ),
    )
    if sent["status"] == "sent":
        print(
            f"Agreement of plan {args.plan_id} emailed to {sent['to']} for acceptance "
            f"(Message-ID {sent['message_id']}; archived as {sent['document']})."
        )
    else:
        print(
            f"Agreement of plan {args.plan_id} queued for {sent['to']}: outside the "
            "contact hours, `arrears mail send` sends it when they open."
        )
    return 0


def _terms(args: argparse.Namespace) -> Any:
    from arrears.access.acts import PlanTerms

    return PlanTerms(
        start=args.start,
        frequency=args.frequency,
        installments=args.installments,
        installment_amount=args.amount,
        down=args.down,
        dates=args.dates or (),
        party_id=args.party,
        acceleration_clause=args.clause,
    )


def _propose(args: argparse.Namespace, on: Any) -> int:
    from arrears.core.money import ZERO
    from arrears.ledger.selectors import account_get, open_items_as_of
    from arrears.plans.schedule import propose_terms
    from arrears.plans.selectors import plan_limits

    account = account_get(account_id=args.account_id)
    items = open_items_as_of(as_of=on, account_pks=[account.pk])
    balance = sum((-i.amount if i.is_credit else i.amount for i in items), ZERO)
    proposal = propose_terms(
        balance=balance,
        income=args.income,
        obligations=args.obligations,
        rent=account.rent,
        limits=plan_limits(),
    )
    doc = {
        "account_id": account.account_id,
        "balance": f"{balance:.2f}",
        "feasible": proposal.feasible,
        "down_payment": f"{proposal.down:.2f}",
        "installments": proposal.installments,
        "installment": f"{proposal.installment:.2f}",
        "frequency": "monthly",
        "monthly_room": f"{proposal.room:.2f}",
        "reasons": list(proposal.reasons),
    }
    if args.format == "json":
        write_json(doc)
        return 0
    balance_text = money(f"{balance:.2f}")
    if proposal.feasible:
        down = f" after {money(f'{proposal.down:.2f}')} down" if proposal.down else ""
        print(
            f"Proposal for {account.account_id}: {balance_text} in {proposal.installments} "
            f"monthly installment(s) of at most {money(f'{proposal.installment:.2f}')}{down}"
        )
    else:
        print(f"No plan fits for {account.account_id} (balance {balance_text}).")
    for reason in proposal.reasons:
        print(f"  - {reason}")
    return 0


def _promise_parser(sub: Any) -> None:
    p = command(sub, "promise", cmd_promise, "promises to pay: record one, or the kept rate")
    ps = p.add_subparsers(dest="promise_command", required=True, metavar="ACTION")
    q = ps.add_parser("add", help="record a promise to pay an amount by a date")
    q.add_argument("account_id")
    q.add_argument("--amount", type=amount, required=True)
    q.add_argument("--date", type=date, required=True, help="pay by this date")
    q.add_argument("--party", help="who promised (a party of the account)")
    q.add_argument(
        "--channel",
        default="phone",
        choices=["phone", "email", "letter", "in_person", "portal", "sms"],
    )
    q.add_argument(
        "--confirm",
        action="store_true",
        help="save a promise above the balance, more than 60 days off, or beside an open one",
    )
    q = ps.add_parser("rate", help="promises kept and broken per coordinator")
    q.add_argument("--since", type=date)
    q.add_argument("--until", type=date)
    q.add_argument("--format", choices=["table", "json"], default="table")


def _plan_parser(sub: Any) -> None:
    p = command(
        sub, "plan", cmd_plan, "payment plans: propose, create, show, cancel, agreement, send"
    )
    ps = p.add_subparsers(dest="plan_command", required=True, metavar="ACTION")
    q = ps.add_parser("propose", help="terms the tenant can afford, and why")
    q.add_argument("account_id")
    q.add_argument("--income", type=amount, required=True, help="monthly income")
    q.add_argument(
        "--obligations", type=amount, default=Decimal("0.00"), help="other monthly obligations"
    )
    q.add_argument("--format", choices=["table", "json"], default="table")
    for name in ("create", "renegotiate"):
        _plan_terms_parser(ps, name)
    q = ps.add_parser("show", help="a plan's installments and how they stand today")
    q.add_argument("plan_id", type=int)
    q.add_argument("--format", choices=["table", "json"], default="table")
    q = ps.add_parser("cancel", help="cancel an active plan, with the reason")
    q.add_argument("plan_id", type=int)
    q.add_argument("--reason", required=True)
    q = ps.add_parser("send", help="email the plan's agreement (PDF) for acceptance, once")
    q.add_argument("plan_id", type=int)
    q.add_argument("--language", choices=["en", "es"], help="default: the party's language")
    q = ps.add_parser("agreement", help="write the plan's agreement as a PDF")
    q.add_argument("plan_id", type=int)
    q.add_argument("--language", choices=["en", "es"], default="en")
    q.add_argument("--output", required=True, help="the PDF file to write")


def _plan_terms_parser(ps: Any, name: str) -> None:
    """`plan create` and `plan renegotiate`: the same terms, on an account or on a plan."""
    what = "a plan on the open balance" if name == "create" else "replace an active plan"
    q = ps.add_parser(name, help=what)
    q.add_argument(
        "plan_id" if name == "renegotiate" else "account_id",
        type=int if name == "renegotiate" else str,
    )
    if name == "renegotiate":
        q.add_argument("--reason", required=True)
    else:
        q.add_argument("--charge", action="append", help="only this charge (repeatable)")
    terms = q.add_mutually_exclusive_group(required=True)
    terms.add_argument("--installments", type=int, help="how many installments")
    terms.add_argument("--amount", type=amount, help="the installment amount")
    q.add_argument(
        "--frequency", default="monthly", choices=["weekly", "biweekly", "monthly", "dates"]
    )
    q.add_argument("--start", type=date, required=True, help="the first installment's date")
    q.add_argument("--dates", type=date, nargs="+", help="with --frequency dates")
    q.add_argument("--down", type=amount, default=Decimal("0.00"), help="down payment")
    q.add_argument("--party", help="the party who agrees to it")
    q.add_argument("--clause", help="the acceleration clause (default: the company's)")
    q.add_argument("--format", choices=["table", "json"], default="table")


PARSERS = {"promise": _promise_parser, "plan": _plan_parser}
