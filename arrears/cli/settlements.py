"""`arrears settlement offer|approve|reject|show|list|check` and `arrears writeoff`: a case's
settlements and write-offs to bad debt (arrears.legal.settlements, through
arrears.access.acts_legal)."""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal
from typing import Any

from arrears.cli.acting import by
from arrears.cli.common import amount, command, date, ensure_migrated, table, write_json


def _due(text: str) -> tuple[Any, Decimal]:
    """An installment written DATE:AMOUNT (2026-04-15:420.00)."""
    day, sep, money = text.partition(":")
    if not sep:
        raise argparse.ArgumentTypeError(f"an installment is DATE:AMOUNT, not {text!r}")
    return date(day.strip()), amount(money.strip())


def _print_settlement(shown: dict[str, Any]) -> None:
    print(
        f"settlement {shown['settlement_id']} (case {shown['case_id']}, {shown['account_id']}): "
        f"{shown['amount']} on a balance of {shown['balance']}, {shown['status']} since "
        f"{shown['status_on']}; {shown['paid']} paid"
        + (f", {shown['forgiven']} forgiven" if shown["forgiven"] else "")
    )
    if shown["reason"]:
        print(f"  {shown['reason']}")
    for i in shown["installments"]:
        status = f" ({i['paid']} paid, {i['status']})" if "status" in i else ""
        print(f"  {i['due_on']}  {i['amount']:>12}{status}")


def cmd_settlement_offer(args: argparse.Namespace) -> int:
    from arrears.access import acts_legal
    from arrears.core.dates import today
    from arrears.legal.selectors import settlement_json

    ensure_migrated()
    made = acts_legal.settlement_offer(
        by=by(args),
        case_id=args.case_id,
        amount=args.amount,
        installments=list(args.due),
        note=args.note or "",
    )
    shown = settlement_json(made, on=today())
    if args.format == "json":
        write_json(shown)
    else:
        _print_settlement(shown)
    return 0


def _decide(args: argparse.Namespace, approve: bool) -> int:
    from arrears.access import acts_legal
    from arrears.core.dates import today
    from arrears.legal.selectors import settlement_json

    ensure_migrated()
    decided = acts_legal.settlement_decide(
        by=by(args),
        settlement_id=args.settlement_id,
        approve=approve,
        reason=getattr(args, "reason", "") or "",
    )
    shown = settlement_json(decided, on=today())
    if args.format == "json":
        write_json(shown)
    else:
        _print_settlement(shown)
    return 0


def cmd_settlement_approve(args: argparse.Namespace) -> int:
    return _decide(args, True)


def cmd_settlement_reject(args: argparse.Namespace) -> int:
    return _decide(args, False)


def cmd_settlement_show(args: argparse.Namespace) -> int:
    from arrears.access import acts_legal
    from arrears.cli.acting import acting

    ensure_migrated()
    shown = acts_legal.settlement_show(
        actor=acting(args, system=True), settlement_id=args.settlement_id
    )
    if args.format == "json":
        write_json(shown)
    else:
        _print_settlement(shown)
    return 0


def cmd_settlement_list(args: argparse.Namespace) -> int:
    from arrears.access import acts_legal
    from arrears.cli.acting import acting

    ensure_migrated()
    shown = acts_legal.case_settlements_show(actor=acting(args, system=True), case_id=args.case_id)
    if args.format == "json":
        write_json(shown)
        return 0
    if not shown:
        print(f"case {args.case_id} has no settlement")
        return 0
    rows = [
        [str(s["settlement_id"]), s["offered_on"], s["amount"], s["paid"], s["status"]]
        for s in shown
    ]
    table(["settlement", "offered", "amount", "paid", "status"], rows, sys.stdout, range(2, 4))
    return 0


def cmd_settlement_check(args: argparse.Namespace) -> int:
    from arrears.access import acts_legal

    ensure_migrated()
    counts = acts_legal.money_check(by=by(args, system=True), on=args.date)
    if args.format == "json":
        write_json(counts)
    else:
        print(
            f"{counts['settlements_paid']} settlement(s) paid, {counts['settlements_broken']} "
            f"broken; {counts['writeoff_recoveries']} recovery(ies) after a write-off."
        )
    return 0


def cmd_writeoff(args: argparse.Namespace) -> int:
    from arrears.access import acts_legal
    from arrears.cli.acting import acting

    ensure_migrated()
    if args.account_id == "show" and args.shown:
        summary = acts_legal.writeoff_show(actor=acting(args, system=True), account_id=args.shown)
        if args.format == "json":
            write_json(summary)
            return 0
        print(
            f"{summary['account_id']}: {summary['written_off']} written off, "
            f"{summary['recovered']} recovered after, {summary['outstanding']} still written off"
        )
        for w in summary["writeoffs"]:
            print(f"  {w['on']} {w['txn_id']} {w['amount']} by {w['made_by']}: {w['reason']}")
            for r in w["recoveries"]:
                print(f"    {r['on']} {r['txn_id']} recovered {r['amount']}")
        return 0
    if args.shown:
        print(
            "arrears writeoff: one account (`arrears writeoff show ACCOUNT_ID` shows one)",
            file=sys.stderr,
        )
        return 2
    if args.amount is None or not args.reason:
        print("arrears writeoff: --amount and --reason are needed", file=sys.stderr)
        return 2
    made = acts_legal.writeoff_post(
        by=by(args), account_id=args.account_id, amount=args.amount, reason=args.reason, on=args.on
    )
    if args.format == "json":
        from arrears.legal.selectors import writeoffs_summary

        write_json(writeoffs_summary(made.account))
        return 0
    print(
        f"{made.account.account_id}: {made.amount:.2f} written off on {made.written_off_on} "
        f"({made.txn_id})."
    )
    return 0


def _settlement_parser(sub: Any) -> None:
    help = "a case's settlements: offer, approve, reject, show, list, check"
    p = sub.add_parser("settlement", help=help, description=help)
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    offer = command(
        actions, "offer", cmd_settlement_offer, "offer a settlement of a case's balance"
    )
    offer.add_argument("case_id", type=int, metavar="CASE_ID")
    offer.add_argument("--amount", type=amount, required=True, help="the amount agreed")
    offer.add_argument(
        "--due",
        type=_due,
        action="append",
        required=True,
        metavar="DATE:AMOUNT",
        help="an installment (repeat; they sum to the amount)",
    )
    offer.add_argument("--note")
    offer.add_argument("--format", choices=["table", "json"], default="table")
    for name, func, what in (
        ("approve", cmd_settlement_approve, "approve a settlement offered"),
        ("reject", cmd_settlement_reject, "reject a settlement offered, saying why"),
    ):
        decide = command(actions, name, func, what)
        decide.add_argument("settlement_id", type=int, metavar="ID")
        if name == "reject":
            decide.add_argument("--reason", required=True)
        decide.add_argument("--format", choices=["table", "json"], default="table")
    show = command(actions, "show", cmd_settlement_show, "a settlement and its installments")
    show.add_argument("settlement_id", type=int, metavar="ID")
    show.add_argument("--format", choices=["table", "json"], default="table")
    listing = command(actions, "list", cmd_settlement_list, "a case's settlements")
    listing.add_argument("case_id", type=int, metavar="CASE_ID")
    listing.add_argument("--format", choices=["table", "json"], default="table")
    check = command(
        actions,
        "check",
        cmd_settlement_check,
        "settle now what the daily run would: settlements paid or broken, recoveries after a "
        "write-off",
    )
    check.add_argument("--date", type=date, help="the day (default today)")
    check.add_argument("--format", choices=["table", "json"], default="table")


def _writeoff_parser(sub: Any) -> None:
    p = command(
        sub,
        "writeoff",
        cmd_writeoff,
        "write an account's balance off to bad debt (a controller); `writeoff show ACCOUNT_ID`: "
        "its write-offs and the recoveries after them",
    )
    p.add_argument("account_id", metavar="ACCOUNT_ID")
    p.add_argument("shown", nargs="?", help=argparse.SUPPRESS)
    p.add_argument("--amount", type=amount, help="the amount written off")
    p.add_argument("--reason", help="why")
    p.add_argument("--on", type=date, help="the day (default today)")
    p.add_argument("--format", choices=["table", "json"], default="table")


PARSERS = {"settlement": _settlement_parser, "writeoff": _writeoff_parser}
