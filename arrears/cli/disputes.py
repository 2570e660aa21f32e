"""`arrears dispute …` and `arrears analysis`: disputes and the analysis that answers them."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from arrears.cli.acting import by
from arrears.cli.common import amount, command, date, ensure_migrated, money, output, write_json


def cmd_dispute(args: argparse.Namespace) -> int:
    ensure_migrated()
    if args.dispute_command == "open":
        return _dispute_open(args)
    return _dispute_resolve(args)


def _dispute_open(args: argparse.Namespace) -> int:
    from arrears.access import acts

    dispute = acts.dispute_open(
        by=by(args),
        account_id=args.account_id,
        reason=args.reason,
        charges=args.charge or (),
        party_id=args.party,
        channel=args.channel,
        documents=args.document or (),
    )
    what = "the whole balance" if dispute.whole_balance else ", ".join(args.charge)
    print(
        f"Dispute {dispute.pk} opened on {args.account_id}: {what}, "
        f"{money(f'{dispute.amount:.2f}')} held until it is resolved."
    )
    return 0


def _dispute_resolve(args: argparse.Namespace) -> int:
    from arrears.access import acts
    from arrears.disputes.selectors import dispute_get

    # The user is authorized on the dispute's account, as on the page.
    answered = acts.dispute_resolve(
        by=by(args),
        account_id=dispute_get(dispute_id=args.dispute_id).account.account_id,
        dispute_id=args.dispute_id,
        outcome=args.outcome,
        amount=args.amount,
        note=args.note or "",
    )
    if args.format == "json":
        write_json(answered.as_json())
    else:
        print(answered.line())
    return 0


def cmd_analysis(args: argparse.Namespace) -> int:
    from arrears.core.dates import today
    from arrears.disputes.selectors import account_analysis
    from arrears.dunning.selectors import analysis_rules

    ensure_migrated()
    end = args.to or today()
    rules = analysis_rules(account_id=args.account_id, on=end)
    analysis = account_analysis(
        account_id=args.account_id, start=args.start, end=end, rules=rules, guarantor=args.guarantor
    )
    if args.format in ("pdf", "xlsx") and not args.output:
        raise SystemExit(f"arrears analysis: error: --format {args.format} needs --output FILE")
    if args.format == "pdf":
        from arrears.disputes.documents import analysis_pdf

        Path(args.output).write_bytes(analysis_pdf(analysis))
    elif args.format == "xlsx":
        from arrears.disputes.documents import analysis_xlsx

        analysis_xlsx(analysis, Path(args.output))
    else:
        with output(args) as out:
            write_json(analysis.as_json(), out)
        if not args.output:
            return 0
    findings = analysis.check.findings
    print(
        f"Analysis of {args.account_id} written to {args.output}: "
        f"{len(analysis.lines)} entries, {len(findings)} finding(s)."
    )
    return 0


# arrears.disputes.models.CHANNELS; the parser is built before Django is set up.
CHANNELS = ("phone", "email", "letter", "in_person", "portal", "attorney")


def _dispute_parser(sub: Any) -> None:
    p = command(sub, "dispute", cmd_dispute, "disputes: open one, resolve it")
    ds = p.add_subparsers(dest="dispute_command", required=True, metavar="ACTION")
    q = ds.add_parser("open", help="a party disputes the balance or chosen charges")
    q.add_argument("account_id")
    q.add_argument("--charge", nargs="+", action="extend", help="the disputed charges (txn ids)")
    q.add_argument("--reason", required=True)
    q.add_argument("--party", help="who disputes (a party of the account)")
    q.add_argument("--channel", default="letter", choices=list(CHANNELS))
    q.add_argument("--document", action="append", help="a document that came with it")
    q = ds.add_parser("resolve", help="upheld (credit), partly upheld, or rejected")
    q.add_argument("dispute_id", type=int)
    q.add_argument("--outcome", required=True, choices=["upheld", "partial", "rejected"])
    q.add_argument("--amount", type=amount, help="the credit of a partial resolution")
    q.add_argument("--note")
    q.add_argument("--format", choices=["table", "json"], default="table")


def _analysis_parser(sub: Any) -> None:
    p = command(
        sub,
        "analysis",
        cmd_analysis,
        "an account analysis: entries, balance, open items, check of the figures",
    )
    p.add_argument("account_id")
    p.add_argument("--from", dest="start", type=date, help="YYYY-MM-DD (default: the opening)")
    p.add_argument("--to", type=date, help="YYYY-MM-DD (default: today)")
    p.add_argument("--guarantor", help="add this guarantor's share (party id)")
    p.add_argument("--format", choices=["pdf", "xlsx", "json"], default="json")
    p.add_argument("--output", help="the file to write (needed for pdf and xlsx)")


PARSERS = {"dispute": _dispute_parser, "analysis": _analysis_parser}
