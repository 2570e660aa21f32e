"""`arrears bank import` and `arrears bank review …`: bank files and the review queue
(arrears.banking, through arrears.access.acts_bank)."""

from __future__ import annotations

import argparse
from decimal import Decimal
from pathlib import Path
from typing import Any

from arrears.cli.acting import acting, by
from arrears.cli.common import amount, command, ensure_migrated, write_json


def cmd_bank_import(args: argparse.Namespace) -> int:
    from arrears.access.acts_bank import bank_file_read, bank_import

    ensure_migrated()
    path = Path(args.file)
    try:
        with path.open("rb") as stream:
            data = bank_file_read(stream)
    except OSError as exc:
        raise SystemExit(f"{path}: {exc.strerror}") from None
    result = bank_import(
        by=by(args, system=True), data=data, name=str(args.file), file_format=args.file_format
    )
    if args.format == "json":
        write_json(result.as_json())
    else:
        print(
            f"{result.file}: {result.lines} lines, {result.posted} posted, {result.review} to"
            f" review, {result.returns} returns, {result.already_imported} already imported."
        )
    return 0


def cmd_bank_review(args: argparse.Namespace) -> int:
    from arrears.access import acts_bank

    ensure_migrated()
    if args.decision == "list":
        lines = acts_bank.review_queue(user=acting(args, system=True))
        if args.format == "json":
            write_json([acts_bank.line_json(line) for line in lines])
            return 0
        for line in lines:
            suggested = line.account.account_id if line.account else "-"
            print(
                f"{line.pk:>6}  {line.posted_on}  {line.amount:>12,.2f}  {line.kind:<6}"
                f"  {suggested:<12} {line.rule or '-':<14} {line.payer_name[:24]:<24}"
                f"  {line.text[:40]}"
            )
        print(f"{len(lines)} lines to review.")
        return 0
    who = by(args, system=True)
    if args.decision == "assign":
        line = acts_bank.review_assign(
            by=who, line_id=args.line, account_id=args.account, note=args.note
        )
    elif args.decision == "split":
        parts = [_part(text) for text in args.part]
        line = acts_bank.review_split(by=who, line_id=args.line, parts=parts, note=args.note)
    else:
        line = acts_bank.review_not_ours(by=who, line_id=args.line, note=args.note)
    if args.format == "json":
        write_json(acts_bank.line_json(line))
    else:
        print(
            f"Bank line {line.pk}: {line.status} ({', '.join(line.txn_ids) or 'nothing posted'})."
        )
    return 0


def _part(text: str) -> tuple[str, Decimal]:
    account, sep, value = text.rpartition(":")
    if not sep or not account:
        raise argparse.ArgumentTypeError(f"not ACCOUNT:AMOUNT: {text!r}")
    return account, amount(value)


def _bank_parser(sub: Any) -> None:
    help = "bank files: import a statement, decide the lines matching left for review"
    p = sub.add_parser("bank", help=help, description=help)
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    imp = command(
        actions,
        "import",
        cmd_bank_import,
        "import a BAI2, camt.053/054, OFX or NACHA file (the same file again adds nothing)",
    )
    imp.add_argument("file", metavar="FILE")
    imp.add_argument(
        "--file-format", choices=["auto", "bai2", "camt", "ofx", "nacha"], default="auto"
    )
    imp.add_argument("--format", choices=["table", "json"], default="table")
    review = command(actions, "review", cmd_bank_review, "the review queue and its decisions")
    decisions = review.add_subparsers(dest="decision", required=True, metavar="DECISION")
    listing = decisions.add_parser("list", help="the lines waiting for a decision")
    listing.add_argument("--format", choices=["table", "json"], default="table")
    assign = decisions.add_parser("assign", help="post the line as a payment to an account")
    assign.add_argument("line", type=int, metavar="LINE")
    assign.add_argument("account", metavar="ACCOUNT_ID")
    split = decisions.add_parser("split", help="post the line to several accounts")
    split.add_argument("line", type=int, metavar="LINE")
    split.add_argument("part", nargs="+", metavar="ACCOUNT:AMOUNT")
    not_ours = decisions.add_parser("not-ours", help="the money is not the book's")
    not_ours.add_argument("line", type=int, metavar="LINE")
    for q in (assign, split, not_ours):
        q.add_argument("--note", default="", required=q is not_ours, help="why")
        q.add_argument("--format", choices=["table", "json"], default="table")


PARSERS = {"bank": _bank_parser}
