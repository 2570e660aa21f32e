"""`arrears moveout` and `arrears deposit show|dispose|statement`: a move-out, its deposit's
disposition and the disposition's itemized statement (arrears.moveout, through
arrears.access.acts)."""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from arrears.cli.acting import acting, by
from arrears.cli.common import command, date, ensure_migrated


def cmd_moveout(args: argparse.Namespace) -> int:
    from arrears.access import acts

    ensure_migrated()
    move = acts.moveout_record(
        by=by(args),
        account_id=args.account_id,
        on=args.on,
        forwarding_address=args.forwarding_address or "",
        party_id=args.party or "",
    )
    view = acts.deposit_show(acting(args), account_id=args.account_id)
    print(
        f"{args.account_id} vacated on {move.vacated_on}; the deposit of "
        f"{view.deposit_held:,.2f} is to be accounted for by {view.statement_due}"
        + (f" ({view.rule.law})" if view.rule.law else "")
        + "."
    )
    return 0


def deduction(text: str) -> Any:
    """--deduct CODE:AMOUNT:TEXT (the text may hold colons)."""
    from arrears.moveout.services import Deduct

    code, _c, rest = text.partition(":")
    amount, _c2, words = rest.partition(":")
    try:
        value = Decimal(amount.strip())
    except InvalidOperation:
        raise argparse.ArgumentTypeError(
            f"--deduct is CODE:AMOUNT:TEXT, and {amount!r} is not an amount"
        ) from None
    if not code.strip() or not words.strip():
        raise argparse.ArgumentTypeError(f"--deduct is CODE:AMOUNT:TEXT, not {text!r}")
    return Deduct(code.strip(), value, words.strip())


def _with_receipts(deductions: list[Any], receipts: list[str]) -> list[Any]:
    """The deductions with the files of --receipt N:FILE read in."""
    from dataclasses import replace

    from arrears.core.errors import ValidationError

    out = list(deductions)
    for given in receipts:
        number, _c, path = given.partition(":")
        if not number.isdigit() or not 1 <= int(number) <= len(out) or not path:
            raise ValidationError(
                f"--receipt is N:FILE, N a deduction's place (1 to {len(out)}): {given!r}"
            )
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise ValidationError(f"--receipt {given}: cannot read it ({exc.strerror})") from None
        out[int(number) - 1] = replace(out[int(number) - 1], receipt=(Path(path).name, data))
    return out


def _show(view: Any, fmt: str) -> None:
    if fmt == "json":
        json.dump(view.as_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    print(f"Account {view.account_id}: deposit held {view.deposit_held:,.2f}")
    if view.vacated is None:
        print("  no move-out recorded")
    else:
        law = f" ({view.rule.law})" if view.rule.law else ""
        print(f"  vacated {view.vacated}; itemized statement due by {view.statement_due}{law}")
    d = view.disposition
    if d is None:
        print("  not disposed of yet")
        return
    print(f"  disposed of on {d.posted_on} (version {d.version})")
    for x in view.deductions:
        print(f"    {x.code:<10} {x.amount:>12,.2f}  {x.text}")
        if x.document is not None:
            print(f"    {'':<10} {'':>12}  receipt: {x.document.name}")
    print(f"  deposit applied {d.applied:,.2f}")
    if d.refund_due:
        print(f"  refund due {d.refund_due:,.2f}")
    else:
        print(f"  balance owed {d.balance_owed:,.2f}")


def cmd_deposit_show(args: argparse.Namespace) -> int:
    from arrears.access import acts

    ensure_migrated()
    _show(acts.deposit_show(acting(args), account_id=args.account_id), args.format)
    return 0


def cmd_deposit_dispose(args: argparse.Namespace) -> int:
    from arrears.access import acts

    ensure_migrated()
    view = acts.deposit_dispose(
        by=by(args),
        account_id=args.account_id,
        deductions=_with_receipts(args.deduct or [], args.receipt or []),
        on=args.on,
        late_reason=args.override or "",
        correction_reason=args.correct or "",
    )
    _show(view, args.format)
    return 0


def cmd_deposit_statement(args: argparse.Namespace) -> int:
    from arrears.access import acts

    ensure_migrated()
    sent = acts.deposit_statement_send(
        by=by(args), account_id=args.account_id, on=args.on, late_reason=args.override or ""
    )
    if args.format == "json":
        json.dump(sent.as_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        late = f", after its deadline: {sent.late_reason}" if sent.late_reason else ""
        print(
            f"Itemized statement of {sent.account_id}'s deposit (disposition version "
            f"{sent.version}) on {sent.on}{late}:"
        )
        for line in sent.lines():
            print(f"  {line}")
    # An addressee the guard refused has no statement: said, and the exit status says so too.
    return 1 if sent.refused else 0


def _moveout_parser(sub: Any) -> None:
    p = command(
        sub,
        "moveout",
        cmd_moveout,
        "record the day an account's tenants vacated (the deposit's clock starts)",
    )
    p.add_argument("account_id")
    p.add_argument("--on", type=date, required=True, help="the day they vacated (YYYY-MM-DD)")
    p.add_argument(
        "--forwarding-address",
        metavar="ADDRESS",
        help='where to write after: "street, city, ST 12345" (becomes the mailing address)',
    )
    p.add_argument("--party", metavar="P", help="whose address it is (default: the primary)")


def _deposit_parser(sub: Any) -> None:
    help = "a security deposit: show it, post its disposition, mail its itemized statement"
    p = sub.add_parser("deposit", help=help, description=help)
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    show = command(actions, "show", cmd_deposit_show, "the deposit, the clock, the disposition")
    show.add_argument("account_id")
    show.add_argument("--format", choices=["table", "json"], default="table")
    dispose = command(
        actions, "dispose", cmd_deposit_dispose, "post what is kept from the deposit, and why"
    )
    dispose.add_argument("account_id")
    dispose.add_argument(
        "--deduct",
        type=deduction,
        action="append",
        metavar="CODE:AMOUNT:TEXT",
        help="an amount kept: rent, late_fee, damage, cleaning, utilities, moving or other",
    )
    dispose.add_argument(
        "--receipt", action="append", metavar="N:FILE", help="the receipt of the Nth deduction"
    )
    dispose.add_argument("--on", type=date, help="the day it is posted (default today)")
    dispose.add_argument(
        "--override", metavar="REASON", help="post it after the statement's deadline, saying why"
    )
    dispose.add_argument(
        "--correct", metavar="REASON", help="supersede the disposition in force, saying why"
    )
    dispose.add_argument("--format", choices=["table", "json"], default="table")
    statement = command(
        actions,
        "statement",
        cmd_deposit_statement,
        "mail the disposition's itemized statement to the tenant and each guarantor",
    )
    statement.add_argument("account_id")
    statement.add_argument("--on", type=date, help="the day it is sent (default today)")
    statement.add_argument(
        "--override", metavar="REASON", help="send it after its deadline, saying why"
    )
    statement.add_argument("--format", choices=["table", "json"], default="table")


PARSERS = {"moveout": _moveout_parser, "deposit": _deposit_parser}
