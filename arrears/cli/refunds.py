"""`arrears refund list|approve|reject|export`: refunds of credit balances (arrears.moveout.refunds,
through arrears.access.acts)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from arrears.cli.acting import by
from arrears.cli.common import command, date, ensure_migrated, table


def cmd_refund_list(args: argparse.Namespace) -> int:
    from arrears.access import acts
    from arrears.core.dates import today
    from arrears.moveout.refunds import lateness, refund_json

    ensure_migrated()
    listed, made = acts.refund_list(
        by=by(args, system=True), late=args.late, status=args.status or ""
    )
    day = today()
    if args.format == "json":
        json.dump([refund_json(r, day) for r in listed], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    if made:
        print(f"{len(made)} refund(s) proposed or revised now")
    if not listed:
        print("no refunds" + (" late or at risk" if args.late else ""))
        return 0
    rows = [
        [
            r.refund_id,
            r.account.account_id,
            r.account.kind,
            f"{r.amount:,.2f} {r.currency}",
            r.origin,
            r.arose_on.isoformat(),
            r.due_on.isoformat(),
            r.status,
            (lateness(r, day) or "").replace("_", " "),
            r.exported_batch or r.reason,
        ]
        for r in listed
    ]
    header = ["refund", "account", "kind", "amount", "origin", "arose", "due", "status", "late"]
    table([*header, "batch / reason"], rows, sys.stdout, numeric=range(3, 4))
    return 0


def cmd_refund_approve(args: argparse.Namespace) -> int:
    from arrears.access import acts

    ensure_migrated()
    refund = acts.refund_approve(by=by(args), refund_id=args.refund_id, on=args.on)
    assert refund.transaction is not None
    assert refund.decided_on is not None
    print(
        f"{refund.refund_id} approved: {refund.amount:,.2f} {refund.currency} refunded to "
        f"{refund.account.account_id} on {refund.decided_on} ({refund.transaction.txn_id})."
    )
    return 0


def cmd_refund_reject(args: argparse.Namespace) -> int:
    from arrears.access import acts

    ensure_migrated()
    refund = acts.refund_reject(by=by(args), refund_id=args.refund_id, reason=args.reason)
    print(f"{refund.refund_id} rejected: {refund.reason}")
    return 0


def cmd_refund_export(args: argparse.Namespace) -> int:
    from arrears.access import acts

    ensure_migrated()
    output = Path(args.output)
    if args.batch:
        done = acts.refund_batch(by=by(args), batch=args.batch, output=output)
    else:
        done = acts.refunds_export(by=by(args), output=output)
    if not done.refunds:
        print(f"nothing to export: {output} holds the header alone")
        return 0
    total = sum(r.amount for r in done.refunds)
    print(
        f"batch {done.batch}: {len(done.refunds)} refund(s), {total:,.2f} in all, written to "
        f"{output}"
    )
    return 0


def _refund_parser(sub: Any) -> None:
    help = "refunds of credit balances: list, approve, reject, export to payables"
    p = sub.add_parser("refund", help=help, description=help)
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = command(
        actions,
        "list",
        cmd_refund_list,
        "the refunds (a credit balance found becomes one to review)",
    )
    listing.add_argument("--format", choices=["table", "json"], default="table")
    listing.add_argument("--late", action="store_true", help="late or due within 3 days")
    listing.add_argument("--status", choices=["proposed", "approved", "rejected", "exported"])
    approve = command(
        actions, "approve", cmd_refund_approve, "approve a refund: its refund entry is posted"
    )
    approve.add_argument("refund_id", metavar="REFUND_ID")
    approve.add_argument("--on", type=date, help="the day it is paid out (default today)")
    reject = command(actions, "reject", cmd_refund_reject, "reject a refund, saying why")
    reject.add_argument("refund_id", metavar="REFUND_ID")
    reject.add_argument("--reason", required=True, metavar="TEXT")
    export = command(
        actions,
        "export",
        cmd_refund_export,
        "write the approved refunds not yet exported to a payables CSV (each once)",
    )
    export.add_argument("--output", required=True, metavar="FILE.csv")
    export.add_argument("--batch", metavar="B", help="write an exported batch's file again")


PARSERS = {"refund": _refund_parser}
