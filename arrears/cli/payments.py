"""`arrears payment post`: one payment posted to an account, once per reference
(arrears.ledger.payments, through arrears.access.acts_payments)."""

from __future__ import annotations

import argparse
from typing import Any

from arrears.cli.acting import by
from arrears.cli.common import amount, command, date, ensure_migrated, write_json


def cmd_payment_post(args: argparse.Namespace) -> int:
    from arrears.access.acts_payments import payment_post

    ensure_migrated()
    posted = payment_post(
        by=by(args, system=True),
        account_id=args.account_id,
        amount=args.amount,
        on=args.on,
        reference=args.reference,
        applies_to=args.applies_to,
        memo=args.memo,
    )
    if args.format == "json":
        write_json(posted.as_json())
    elif posted.posted:
        print(
            f"Payment of {posted.amount:,.2f} on {posted.posted_on} posted to"
            f" {posted.account_id} ({posted.txn_id}, reference {posted.reference})."
        )
    else:
        print(
            f"Already posted: the reference {posted.reference} is the payment of"
            f" {posted.amount:,.2f} on {posted.posted_on} to {posted.account_id}"
            f" ({posted.txn_id}); nothing posted now."
        )
    return 0


def _payment_parser(sub: Any) -> None:
    help = "money received: post one payment to an account"
    p = sub.add_parser("payment", help=help, description=help)
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    post = command(
        actions,
        "post",
        cmd_payment_post,
        "post a payment once per reference (the same reference again posts nothing)",
    )
    post.add_argument("account_id", metavar="ACCOUNT_ID")
    post.add_argument("--amount", type=amount, required=True, metavar="A")
    post.add_argument("--on", type=date, required=True, metavar="D", help="the day it was paid")
    post.add_argument(
        "--reference",
        required=True,
        metavar="R",
        help="the bank's, processor's or cheque's reference: a payment is posted once per one",
    )
    post.add_argument("--applies-to", metavar="TXN", help="the charge it pays first (txn_id)")
    post.add_argument("--memo", default="", help="a note kept on the entry")
    post.add_argument("--format", choices=["table", "json"], default="table")


PARSERS = {"payment": _payment_parser}
