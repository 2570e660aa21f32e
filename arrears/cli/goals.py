"""`arrears goal set|import|propose|list`: the monthly collection goals (docs/metrics.md,
"Forecast vs actual"), through arrears.access.acts_goals. `arrears report forecast` and
`arrears report weekly` read them against the book."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from arrears.cli.acting import by
from arrears.cli.common import amount, command, ensure_migrated, table

SCOPES = ("property", "portfolio", "book")


def _month(text: str) -> Any:
    from arrears.core.dates import parse_month

    try:
        return parse_month(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cmd_goal_set(args: argparse.Namespace) -> int:
    from arrears.access.acts_goals import goal_set

    ensure_migrated()
    goal = goal_set(
        by=by(args),
        month=args.month,
        kind=args.scope,
        key=args.key or "",
        amount=args.amount,
        currency=args.currency,
    )
    where = goal.scope_key or "the book"
    print(f"{goal.month:%Y-%m} goal for {where}: {goal.amount:,.2f} {goal.currency}.")
    return 0


def cmd_goal_import(args: argparse.Namespace) -> int:
    from arrears.access.acts_goals import goal_import

    ensure_migrated()
    path = Path(args.file)
    text = path.read_text(encoding="utf-8-sig")
    done = goal_import(by=by(args), text=text, name=path.name)
    print(f"{len(done)} goal(s) set from {path.name}.")
    return 0


def cmd_goal_propose(args: argparse.Namespace) -> int:
    from arrears.access.acts_goals import goal_propose

    ensure_migrated()
    made = goal_propose(
        by=by(args, system=not args.apply), month=args.month, kind=args.scope, apply=args.apply
    )
    if args.format == "json":
        json.dump([p.as_json() for p in made], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    rows = [
        [
            p["key"] or "(book)",
            p["currency"],
            f"{p['window'][0]}..{p['window'][1]}",
            p["rate"] or "-",
            p["due_month"],
            p["base"],
            p["amount"],
        ]
        for p in (m.as_json() for m in made)
    ]
    headers = ["scope", "currency", "months", "rate", "due", "base", "proposed goal"]
    table(headers, rows, sys.stdout, range(3, 7))
    if args.apply:
        print(f"{sum(1 for m in made if m.amount > 0)} goal(s) set, source proposed.")
    return 0


def cmd_goal_list(args: argparse.Namespace) -> int:
    from arrears.access.acts_goals import goal_json, goal_list

    ensure_migrated()
    found = goal_list(by=by(args, system=True), month=args.month, kind=args.scope)
    if args.format == "json":
        json.dump([goal_json(g) for g in found], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    if not found:
        print(f"no goal for {args.month:%Y-%m}")
        return 0
    rows = [
        [g.scope_kind, g.scope_key or "-", g.currency, f"{g.amount:,.2f}", g.source, g.set_by]
        for g in found
    ]
    table(["scope", "key", "currency", "goal", "source", "set by"], rows, sys.stdout, range(3, 4))
    return 0


def _goal_parser(sub: Any) -> None:
    help = "monthly collection goals: set, import a CSV, propose from the last 12 months, list"
    p = sub.add_parser("goal", help=help, description=help)
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    q = command(actions, "set", cmd_goal_set, "set a month's goal (a changed goal is audited)")
    q.add_argument("month", type=_month, help="YYYY-MM")
    q.add_argument("scope", choices=SCOPES)
    q.add_argument("key", nargs="?", help="the property's id or the portfolio (none: the book)")
    q.add_argument("--amount", type=amount, required=True)
    q.add_argument("--currency", help="default: the currency of the scope's accounts")
    q = command(
        actions,
        "import",
        cmd_goal_import,
        "set goals from a CSV: month,scope,key,amount[,currency] (all or nothing)",
    )
    q.add_argument("file", metavar="FILE")
    q = command(
        actions,
        "propose",
        cmd_goal_propose,
        "propose a month's goals: the last 12 months' collection rate × the charges due",
    )
    q.add_argument("month", type=_month, help="YYYY-MM")
    q.add_argument("--scope", choices=SCOPES, default="property")
    q.add_argument("--apply", action="store_true", help="set them (source proposed)")
    q.add_argument("--format", choices=["table", "json"], default="table")
    q = command(actions, "list", cmd_goal_list, "the goals of a month")
    q.add_argument("month", type=_month, help="YYYY-MM")
    q.add_argument("--scope", choices=SCOPES)
    q.add_argument("--format", choices=["table", "json"], default="table")


PARSERS = {"goal": _goal_parser}
