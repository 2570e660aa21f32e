"""`arrears remittance import`: an insurer's X12 835 remittance posted to patient accounts
(arrears.banking.remittance, through arrears.access.acts_remittance)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from arrears.cli.acting import by
from arrears.cli.common import command, ensure_migrated, write_json


def cmd_remittance_import(args: argparse.Namespace) -> int:
    from arrears.access.acts_remittance import remittance_import
    from arrears.core.errors import ValidationError

    ensure_migrated()
    path = Path(args.path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValidationError(f"{args.path}: {exc.strerror}", code="file_unreadable") from None
    done = remittance_import(by=by(args, system=True), data=data, name=args.path)
    if args.format == "json":
        write_json(done.as_json())
        return 0
    print(
        f"{done.file}: {done.claims} claims, {done.posted} posted, {done.already_imported}"
        f" already imported; paid {done.paid:,.2f}, adjusted {done.adjusted:,.2f}, the"
        f" patients owe {done.patient_responsibility:,.2f}"
        + (f", reversed {done.reversed:,.2f}" if done.reversed else "")
        + f"; {len(done.released_holds)} insurance holds released."
    )
    for denial in done.denials:
        print(
            f"Denied: claim {denial['claim']} ({denial['payer_claim']}) of {denial['account_id']},"
            f" {denial['amount']}: {', '.join(denial['reasons']) or 'no reason given'}"
        )
    for line in done.follow_up:
        print(f"To follow up: claim {line['claim']} (segment {line['segment']}): {line['reason']}")
    for plb in done.provider_adjustments:
        print(
            f"Provider adjustment {plb['reason']} {plb['reference']}: {plb['amount']}"
            " (not of a claim: not posted)"
        )
    return 0


def _remittance_parser(sub: Any) -> None:
    help = "insurance remittances: post an X12 835 file to patient accounts"
    p = sub.add_parser("remittance", help=help, description=help)
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    imp = command(
        actions,
        "import",
        cmd_remittance_import,
        "post an 835 file's payments and adjustments, list its denials (the same file again"
        " posts nothing)",
    )
    imp.add_argument("path", metavar="FILE.835")
    imp.add_argument("--format", choices=["table", "json"], default="table")


PARSERS = {"remittance": _remittance_parser}
