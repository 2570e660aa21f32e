"""`arrears demo`: the demo book, built once, with its collection cycle run day by day."""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path
from typing import Any

from arrears.cli.acting import cli_job
from arrears.cli.book import cmd_aging
from arrears.cli.common import command, migrate


def cmd_demo(args: argparse.Namespace) -> int:
    import tempfile

    from arrears.demo.build import demo_build
    from arrears.dunning.reissue import letters_print
    from arrears.dunning.services import cycle_run

    migrate()
    days: list[date] = []
    took = [0.0]
    printed = [0]
    # The coordinator's day: the run, then the day's letters printed for mailing (dated and their
    # deadlines counted that day, the steps that follow a letter counting from it). The print
    # files and manifests are archived; the copies written here are not kept.
    print_folder = tempfile.TemporaryDirectory(prefix="arrears-demo-print-")

    def run_day(on: date) -> None:
        started = time.monotonic()
        cycle_run(on=on, actor="cycle")
        output = Path(print_folder.name) / on.isoformat()
        batch = letters_print(on=on, output=output, actor="cycle")
        printed[0] += len(batch.letters)
        took[0] += time.monotonic() - started
        days.append(on)

    def build(_actor: str) -> None:
        with print_folder:
            demo_build(
                force=args.force, cycle=run_day, progress=lambda line: print(line, flush=True)
            )

    cli_job(args, "demo.build", detail={"force": bool(args.force)}, do=build)
    if days:
        _cycle_summary(days, took[0], printed[0])
    return cmd_aging(
        argparse.Namespace(
            as_of=None,
            by="property",
            currency=None,
            buckets="0,30,60,90",
            format="table",
            output=None,
        )
    )


def _cycle_summary(days: list[date], seconds: float, printed: int) -> None:
    """What the demo's collection cycle put on record over its days."""
    from collections import Counter
    from decimal import Decimal

    from arrears.dunning.models import Action

    # What the cycle put on record over those days (all of it done by these runs on a new book).
    kinds: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    fees = Decimal(0)
    for action, channel, status, rule, amount in Action.objects.filter(
        run_on__gte=days[0], run_on__lte=days[-1]
    ).values_list("action", "channel", "status", "rule", "amount"):
        if status == "refused":
            rules[rule] += 1
            continue
        kinds["actions"] += 1
        if status == "queued":
            kinds["letters" if channel in ("letter", "certified_letter") else channel] += 1
        elif status == "task":
            kinds["tasks"] += 1
        elif action == "fee":
            kinds["fees"] += 1
            fees += amount or 0
        elif action in ("recommend_referral", "referral"):
            kinds["referrals"] += 1
    refused = ", ".join(f"{rule} {n}" for rule, n in rules.most_common())
    print(
        f"Collection cycle: {len(days)} daily runs and letter batches, {days[0]} to "
        f"{days[-1]}, in {seconds:.1f}s ({printed} letters printed)\n"
        f"  actions: {kinds['actions']} ({kinds['letters']} letters and {kinds['email']} "
        f"emails queued, {kinds['tasks']} call/text tasks, {kinds['referrals']} referrals "
        f"recommended)\n"
        f"  fees posted: {kinds['fees']} ({fees:.2f} in all)\n"
        f"  refused by the guard: {sum(rules.values())}"
        f"{f' ({refused})' if refused else ''}\n"
        f"The day's worklist: `arrears worklist`, or /today/ on the web.",
        flush=True,
    )


def _demo_parser(sub: Any) -> None:
    help = "build the demo book (once) and print its aging by property"
    p = command(sub, "demo", cmd_demo, help)
    p.add_argument("--force", action="store_true", help="rebuild even if the book has entries")


PARSERS = {"demo": _demo_parser}
