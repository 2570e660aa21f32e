"""`arrears firm add|list`, `arrears refer`, `arrears case show|update|list`: firms and agencies,
and the cases referred to them (arrears.legal, through arrears.access.acts)."""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from arrears.cli.acting import by
from arrears.cli.common import amount, command, date, ensure_migrated, table, write_json
from arrears.legal.statuses import UPDATES


def _percent(text: str) -> Decimal:
    try:
        value = Decimal(text.rstrip("%"))
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a percentage: {text!r}") from None
    return value


def cmd_firm_add(args: argparse.Namespace) -> int:
    from arrears.access import acts_legal

    ensure_migrated()
    firm = acts_legal.firm_add(
        by=by(args, system=True),
        name=args.name,
        kind=args.kind,
        contingency_percent=args.contingency,
        flat_fee=args.flat_fee,
        advances_court_costs=args.court_costs,
        jurisdictions=args.jurisdiction or [],
        email=args.email or "",
    )
    if args.format == "json":
        from arrears.legal.selectors import firm_json

        write_json(firm_json(firm))
    else:
        print(
            f"{firm.name} added: {firm.get_kind_display()}, contingency "
            f"{firm.contingency_percent}%."
        )
    return 0


def cmd_firm_list(args: argparse.Namespace) -> int:
    from arrears.legal.selectors import firm_json, firms

    ensure_migrated()
    found = firms()
    if args.format == "json":
        write_json([firm_json(f) for f in found])
        return 0
    if not found:
        print("no firms (add one: arrears firm add NAME)")
        return 0
    rows = [
        [
            f.name,
            f.kind,
            f"{f.contingency_percent}%",
            f"{f.flat_fee:,.2f}",
            ", ".join(f.jurisdictions) or "any",
            f.email,
        ]
        for f in found
    ]
    table(
        ["firm", "kind", "contingency", "flat fee", "jurisdictions", "email"],
        rows,
        sys.stdout,
        numeric=range(2, 4),
    )
    return 0


def cmd_refer(args: argparse.Namespace) -> int:
    from arrears.access import acts

    ensure_migrated()
    if args.check:
        return _refer_check(args)
    referral = acts.referral_make(
        by=by(args),
        account_id=args.account_id,
        firm=args.firm,
        note=args.note or "",
        on=args.on,
        override=args.override or "",
    )
    if args.format == "json":
        from arrears.legal.selectors import referral_json

        write_json(referral_json(referral))
        return 0
    missing = (referral.packet_manifest or {}).get("missing", [])
    print(
        f"{args.account_id} referred to {referral.firm} on {referral.referred_on}: "
        f"case {referral.pk}, case file {referral.packet}"
        + (f" (sent without {', '.join(missing)})" if missing else "")
        + "."
    )
    return 0


def _refer_check(args: argparse.Namespace) -> int:
    """`arrears refer ACCOUNT --firm F --check`: the referral checklist, nothing written."""
    from arrears.access import acts
    from arrears.cli.acting import acting

    shown = acts.referral_checklist(
        actor=acting(args, system=True), account_id=args.account_id, firm=args.firm
    )
    if args.format == "json":
        write_json(shown)
        return 0
    print(
        f"{shown['account_id']}: {shown['title']}" + (f" ({shown['law']})" if shown["law"] else "")
    )
    rows = []
    for item in shown["items"]:
        state = "held" if item["held"] else ("MISSING" if item["missing"] else "n/a")
        held = []
        for s in item["sources"]:
            if s["source"] == "generated":
                held.append(f"built: {s['what']}")
            elif s["source"] == "letter":
                sent = f"L{s['letter_id']} {s['template']}"
                if s["article_number"]:
                    sent += f" cert. {s['article_number']}"
                held.append(sent)
            else:
                held.append(f"{s['kind']}: {s['title']}")
        if item["missing"] and item["uploads"]:
            held.append("add: --kind " + " or ".join(item["uploads"]))
        rows.append([item["key"], state, "; ".join(held), item["law"] or ""])
    table(["item", "state", "held by", "law"], rows, sys.stdout, numeric=range(0))
    print("ready to refer" if shown["ready"] else "missing: " + ", ".join(shown["missing"]))
    return 0


def cmd_case_show(args: argparse.Namespace) -> int:
    from arrears.access import acts_legal
    from arrears.cli.acting import acting

    ensure_migrated()
    shown = acts_legal.case_show(actor=acting(args, system=True), case_id=args.case_id)
    if args.format == "json":
        write_json(shown)
        return 0
    print(
        f"case {shown['case_id']}: {shown['account_id']} at {shown['firm']}, {shown['status']} "
        f"since {shown['status_on']}"
    )
    for key in ("index_number", "court", "hearing_on", "judgment_amount", "judgment_on"):
        if shown[key]:
            print(f"  {key.replace('_', ' ')}: {shown[key]}")
    for e in shown["events"]:
        note = f" — {e['note']}" if e["note"] else ""
        print(f"  {e['on']} {e['status']} by {e['actor']}{note}")
    return 0


def cmd_case_update(args: argparse.Namespace) -> int:
    from arrears.access import acts_legal
    from arrears.legal.selectors import case_json

    ensure_migrated()
    case = acts_legal.case_update(
        by=by(args),
        case_id=args.case_id,
        status=args.status,
        on=args.on,
        index_number=args.index_number or "",
        court=args.court or "",
        amount=args.amount,
        note=args.note or "",
    )
    if args.format == "json":
        write_json(case_json(case))
        return 0
    print(
        f"case {case.pk} ({case.account.account_id}, {case.firm}): "
        f"{case.status} on {case.status_on}."
    )
    return 0


def cmd_case_list(args: argparse.Namespace) -> int:
    from arrears.access.acts_legal import cases_visible
    from arrears.cli.acting import acting

    ensure_migrated()
    cases = cases_visible(acting(args, system=True), firm=args.firm or "", open_only=not args.all)
    if args.format == "json":
        from arrears.legal.selectors import case_row

        write_json([case_row(c) for c in cases])
        return 0
    if not cases:
        print("no cases")
        return 0
    rows = [
        [
            str(c.pk),
            c.account.account_id,
            c.firm,
            c.status,
            str(c.status_on or ""),
            c.index_number,
            str(c.hearing_on or ""),
            f"{c.balance_referred:,.2f}" if c.balance_referred is not None else "",
        ]
        for c in cases
    ]
    header = ["case", "account", "firm", "status", "since", "index no.", "hearing", "referred"]
    table(header, rows, sys.stdout, numeric=range(7, 8))
    return 0


def cmd_legal_agenda(args: argparse.Namespace) -> int:
    from arrears.access import acts_legal
    from arrears.cli.acting import acting

    ensure_migrated()
    doc = acts_legal.agenda_read(actor=acting(args, system=True), firm=args.firm, month=args.month)
    if args.format == "json":
        write_json(doc)
        return 0
    name = f"agenda-{doc['month']}.{args.format}"
    output = Path(args.output or name)
    if args.format == "pdf":
        from arrears.reports.documents import agenda_pdf

        output.write_bytes(agenda_pdf(doc))
    else:
        from arrears.reports.documents import agenda_xlsx

        agenda_xlsx(doc, output)
    print(
        f"{doc['firm']}, {doc['month']}: {len(doc['cases'])} case(s), "
        f"{len(doc['hearings'])} hearing(s) ahead, {len(doc['recommended_not_sent'])} "
        f"recommended and not sent; written to {output}"
    )
    return 0


def _case_note(text: str) -> tuple[int, str]:
    case, sep, note = text.partition(":")
    if not sep or not case.strip().isdigit():
        raise argparse.ArgumentTypeError(f"a case's minutes are CASE_ID:TEXT, not {text!r}")
    return int(case), note


def cmd_legal_minutes(args: argparse.Namespace) -> int:
    from arrears.access import acts_legal

    ensure_migrated()
    notes: dict[int, str] = {}
    for case_id, text in args.case:
        notes[case_id] = f"{notes[case_id]}\n{text}" if case_id in notes else text
    meeting = acts_legal.minutes_record(
        by=by(args), firm=args.firm, month=args.month, notes=notes, held_on=args.on
    )
    print(
        f"meeting with {meeting.firm} of {meeting.month} (held {meeting.held_on}): minutes of "
        f"{len(notes)} case(s) written to their timelines."
    )
    return 0


def _legal_parser(sub: Any) -> None:
    help = "the monthly meeting with a firm: its agenda, its minutes"
    p = sub.add_parser("legal", help=help, description=help)
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    agenda = command(
        actions, "agenda", cmd_legal_agenda, "the agenda of a month's meeting with a firm"
    )
    agenda.add_argument("--firm", required=True)
    agenda.add_argument("--month", metavar="YYYY-MM", help="default: this month")
    agenda.add_argument("--format", choices=["pdf", "xlsx", "json"], default="pdf")
    agenda.add_argument("--output", metavar="FILE", help="default: agenda-YYYY-MM.pdf|xlsx")
    minutes = command(
        actions,
        "minutes",
        cmd_legal_minutes,
        "record the meeting's minutes: each case's note goes to its timeline",
    )
    minutes.add_argument("--firm", required=True)
    minutes.add_argument("--month", required=True, metavar="YYYY-MM")
    minutes.add_argument("--on", type=date, help="the day it was held (default today)")
    minutes.add_argument(
        "--case", type=_case_note, action="append", required=True, metavar="CASE_ID:TEXT"
    )


def cmd_case_calendar(args: argparse.Namespace) -> int:
    from arrears.access.acts_cases import case_calendar
    from arrears.cli.acting import acting

    ensure_migrated()
    calendar = case_calendar(actor=acting(args, system=True), firm=args.firm)
    if args.output:
        with open(args.output, "wb") as stream:
            stream.write(calendar.data)
        print(f"{calendar.hearings} hearings of {calendar.firm} written to {args.output}.")
    else:
        sys.stdout.buffer.write(calendar.data)
        sys.stdout.flush()
    return 0


def cmd_case_digest(args: argparse.Namespace) -> int:
    from arrears.access.acts_cases import legal_digest_send

    ensure_migrated()
    report = legal_digest_send(by=by(args, system=True), on=args.on)
    if args.format == "json":
        write_json(report.as_json())
        return 0
    print(
        f"case news, week {report.week}: {len(report.sent)} sent, {len(report.already)} sent "
        f"before, {len(report.quiet)} with nothing new, {len(report.no_email)} without an "
        f"email address, {len(report.failed)} failed."
    )
    for name, error in report.failed.items():
        print(f"  {name}: {error}", file=sys.stderr)
    return 1 if report.failed else 0


def _firm_parser(sub: Any) -> None:
    help = "law firms and collection agencies: add, list"
    p = sub.add_parser("firm", help=help, description=help)
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = command(actions, "add", cmd_firm_add, "add a law firm or a collection agency")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--kind", choices=["law", "agency"], default="law")
    add.add_argument(
        "--contingency",
        type=_percent,
        default=Decimal("0"),
        metavar="PERCENT",
        help="its fee: a percentage of what it recovers (default 0)",
    )
    add.add_argument(
        "--flat-fee",
        type=amount,
        default=Decimal("0"),
        metavar="AMOUNT",
        help="its flat fee per case",
    )
    add.add_argument("--court-costs", action="store_true", help="it advances court costs")
    add.add_argument(
        "--jurisdiction",
        action="append",
        metavar="STATE",
        help="a state it takes cases in (repeat; none: any)",
    )
    add.add_argument("--email", help="where the case files go")
    add.add_argument("--format", choices=["table", "json"], default="table")
    listing = command(actions, "list", cmd_firm_list, "the firms and their terms")
    listing.add_argument("--format", choices=["table", "json"], default="table")


def _refer_parser(sub: Any) -> None:
    p = command(
        sub,
        "refer",
        cmd_refer,
        "refer an account to a law firm or an agency: its case file is built and sent",
    )
    p.add_argument("account_id")
    p.add_argument("--firm", required=True)
    p.add_argument("--on", type=date, help="the referral's date (default today)")
    p.add_argument("--note")
    p.add_argument(
        "--check",
        action="store_true",
        help="print the referral checklist (what the case file holds and lacks); refer nothing",
    )
    p.add_argument(
        "--override",
        metavar="REASON",
        help="refer although the checklist finds something missing, for this reason",
    )
    p.add_argument("--format", choices=["table", "json"], default="table")


def _case_parser(sub: Any) -> None:
    help = "the cases referred to firms: show, update, list, calendar, digest"
    p = sub.add_parser("case", help=help, description=help)
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    show = command(actions, "show", cmd_case_show, "one case, with its history")
    show.add_argument("case_id", type=int, metavar="CASE_ID")
    show.add_argument("--format", choices=["table", "json"], default="table")
    update = command(
        actions, "update", cmd_case_update, "record a case's step as the firm reports it"
    )
    update.add_argument("case_id", type=int, metavar="CASE_ID")
    update.add_argument("--status", required=True, choices=list(UPDATES))
    update.add_argument("--on", type=date, help="the day (a hearing's day; default today)")
    update.add_argument("--index-number", metavar="N", help="the court's index number")
    update.add_argument("--court", help="the court")
    update.add_argument("--amount", type=amount, help="a judgment's amount")
    update.add_argument("--note")
    update.add_argument("--format", choices=["table", "json"], default="table")
    listing = command(actions, "list", cmd_case_list, "the cases you may see (open ones)")
    listing.add_argument("--firm")
    listing.add_argument("--all", action="store_true", help="the ended ones too")
    listing.add_argument("--format", choices=["table", "json"], default="table")
    calendar = command(
        actions, "calendar", cmd_case_calendar, "a firm's hearings as an iCalendar file (.ics)"
    )
    calendar.add_argument("--firm", required=True, metavar="F")
    calendar.add_argument("--output", metavar="FILE", help="write it here (default: stdout)")
    digest = command(
        actions,
        "digest",
        cmd_case_digest,
        "email each property manager the week's news of their buildings' cases (once a week)",
    )
    digest.add_argument("--on", type=date, help="the day of the run (default today)")
    digest.add_argument("--format", choices=["table", "json"], default="table")


PARSERS = {
    "firm": _firm_parser,
    "refer": _refer_parser,
    "case": _case_parser,
    "legal": _legal_parser,
}
