"""`arrears period close|reopen|list`: the months a controller has closed (ledger.periods)."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import Any

from arrears.cli.acting import acting, via
from arrears.cli.common import command, ensure_migrated, table, write_json


def _month(text: str) -> date:
    from arrears.core.dates import parse_month

    try:
        return parse_month(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cmd_period(args: argparse.Namespace) -> int:
    from arrears.core.dates import today
    from arrears.ledger import periods

    ensure_migrated()
    if args.period_command == "close":
        from arrears.access.services import period_close

        who = acting(args)  # a controller or an admin, named: never the operator
        event = period_close(month=args.month, on=today(), actor=who, via=via(who))
        print(
            f"{periods.label(event.month)} closed: the book is closed through "
            f"{event.closed_through}; an entry dated on or before it is refused."
        )
        return 0
    if args.period_command == "reopen":
        from arrears.access.services import period_reopen

        who = acting(args)
        event = period_reopen(month=args.month, reason=args.reason, actor=who, via=via(who))
        where = f"closed through {event.closed_through}" if event.closed_through else "not closed"
        print(f"{periods.label(event.month)} reopened: the book is {where}.")
        return 0
    through = periods.closed_through()
    events = periods.period_list()
    if args.format == "json":
        write_json(
            {
                "closed_through": through.isoformat() if through else None,
                "first_open_day": str(periods.first_open_day(through) or "") or None,
                "events": [_event_json(e) for e in events],
            }
        )
        return 0
    print(
        f"The book is closed through {through} (first open day {periods.first_open_day(through)})."
        if through
        else "No month is closed."
    )
    if events:
        rows = [
            [
                periods.label(e.month),
                e.kind,
                str(e.closed_through or "-"),
                f"{e.at:%Y-%m-%d %H:%M}",
                e.actor,
                e.reason,
            ]
            for e in events
        ]
        headers = ["month", "act", "closed through", "at (UTC)", "by", "reason"]
        table(headers, rows, sys.stdout, range(0))
    return 0


def _event_json(e: Any) -> dict[str, Any]:
    return {
        "month": e.month.strftime("%Y-%m"),
        "kind": e.kind,
        "closed_through": e.closed_through.isoformat() if e.closed_through else None,
        "at": e.at.isoformat(),
        "actor": e.actor,
        "reason": e.reason,
    }


def _period_parser(sub: Any) -> None:
    p = command(sub, "period", cmd_period, "closed periods: close a month, reopen it, list them")
    period_sub = p.add_subparsers(dest="period_command", required=True, metavar="ACTION")
    q = period_sub.add_parser("close", help="close a month that has ended (months close in order)")
    q.add_argument("month", type=_month, help="YYYY-MM")
    q = period_sub.add_parser("reopen", help="reopen the latest closed month, saying why")
    q.add_argument("month", type=_month, help="YYYY-MM")
    q.add_argument("--reason", required=True, help="why it is reopened (on the audit log)")
    q = period_sub.add_parser(
        "list", help="where the book is closed, and every close and reopening"
    )
    q.add_argument("--format", choices=["table", "json"], default="table")


PARSERS = {"period": _period_parser}
