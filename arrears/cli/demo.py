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

    if args.team:
        return _demo_team(args.team)
    if args.subscriptions:
        return _demo_subscriptions(args.subscriptions)

    from django.conf import settings

    from arrears.demo.build import demo_build
    from arrears.demo.deposits import demo_deposits
    from arrears.demo.legal import demo_legal
    from arrears.demo.mailroom import emails_send_day, letters_mail_day
    from arrears.dunning.reissue import letters_print
    from arrears.dunning.services import cycle_run

    migrate()
    days: list[date] = []
    took = [0.0]
    counts = {"printed": 0, "mailed": 0, "sent": 0}
    # The coordinator's day: the run, the day's letters printed for mailing (dated and their
    # deadlines counted that day, the steps that follow a letter counting from it) and recorded
    # mailed, the day's emails sent (to a folder: arrears.demo.mailroom). The last day's letters
    # are left printed, for the Letters page. The print files and manifests are archived; the
    # copies written here are not kept.
    print_folder = tempfile.TemporaryDirectory(prefix="arrears-demo-print-")
    outbox = Path(settings.ARREARS_ARCHIVE_DIR) / "demo-outbox"
    unmailed: list[tuple[Path, date]] = []
    deposits: list[str] = []

    def run_day(on: date) -> None:
        started = time.monotonic()
        for manifest, printed_on in unmailed:
            counts["mailed"] += letters_mail_day(manifest=manifest, on=printed_on, actor="cycle")
        unmailed.clear()
        cycle_run(on=on, actor="cycle")
        for line in demo_deposits(on=on, first_day=days[0] if days else on, actor="cycle"):
            deposits.append(line)
        demo_legal(on=on, first_day=days[0] if days else on, actor="cycle")
        output = Path(print_folder.name) / on.isoformat()
        batch = letters_print(on=on, output=output, actor="cycle")
        counts["printed"] += len(batch.letters)
        if batch.manifest is not None and batch.letters:
            unmailed.append((batch.manifest, on))
        counts["sent"] += emails_send_day(
            on=on, folder=outbox, zone=settings.TIME_ZONE, actor="cycle"
        )
        took[0] += time.monotonic() - started
        days.append(on)

    def build(_actor: str) -> None:
        with print_folder:
            demo_build(
                force=args.force, cycle=run_day, progress=lambda line: print(line, flush=True)
            )

    cli_job(args, "demo.build", detail={"force": bool(args.force)}, do=build)
    if days:
        _cycle_summary(days, took[0], counts, outbox)
        for line in deposits:
            print(f"  {line}")
        _cases_summary()
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


def _cases_summary() -> None:
    """The demo's cases at the firms, by firm and status."""
    from collections import Counter

    from arrears.legal.models import Referral, Settlement

    by_firm: dict[str, Counter[str]] = {}
    for firm, status in Referral.objects.values_list("firm", "status"):
        by_firm.setdefault(firm, Counter())[status] += 1
    for firm, statuses in sorted(by_firm.items()):
        counts = ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))
        print(f"  cases at {firm}: {counts}")
    waiting = Settlement.objects.filter(status="offered").count()
    if waiting:
        print(f"  {waiting} settlement(s) waiting for a controller's approval")


def _cycle_summary(days: list[date], seconds: float, counts: dict[str, int], outbox: Path) -> None:
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
        if channel in ("letter", "certified_letter", "email") and status in ("queued", "done"):
            kinds["letters" if channel != "email" else channel] += 1
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
        f"{days[-1]}, in {seconds:.1f}s ({counts['printed']} letters printed, "
        f"{counts['mailed']} recorded mailed; {counts['sent']} emails sent to {outbox})\n"
        f"  actions: {kinds['actions']} ({kinds['letters']} letters and {kinds['email']} "
        f"emails, {kinds['tasks']} call/text tasks, {kinds['referrals']} referrals "
        f"recommended)\n"
        f"  fees posted: {kinds['fees']} ({fees:.2f} in all)\n"
        f"  refused by the guard: {sum(rules.values())}"
        f"{f' ({refused})' if refused else ''}\n"
        f"The day's worklist: `arrears worklist`, or /today/ on the web.",
        flush=True,
    )


def _demo_team(coordinator: str) -> int:
    """`arrears demo --team USER`: the demo's buildings shared by USER and a colleague."""
    import getpass

    from arrears.core.dates import today
    from arrears.demo.team import demo_team

    migrate()
    for line in demo_team(coordinator=coordinator, login=getpass.getuser(), on=today()) or [
        "The demo book has its assignments already."
    ]:
        print(line)
    return 0


def _demo_subscriptions(users: str) -> int:
    """`arrears demo --subscriptions COORDINATOR,CONTROLLER`: the demo's report subscriptions."""
    import getpass

    from arrears.demo.subscriptions import demo_subscriptions

    migrate()
    coordinator, _, controller = users.partition(",")
    lines = demo_subscriptions(
        coordinator=coordinator, controller=controller or coordinator, login=getpass.getuser()
    )
    for line in lines or ["The demo book has its subscriptions already."]:
        print(line)
    return 0


def _demo_parser(sub: Any) -> None:
    help = "build the demo book (once) and print its aging by property"
    p = command(sub, "demo", cmd_demo, help)
    p.add_argument("--force", action="store_true", help="rebuild even if the book has entries")
    p.add_argument(
        "--team",
        metavar="USER",
        help="only give the demo's buildings to USER (a coordinator) and a colleague, once",
    )
    p.add_argument(
        "--subscriptions",
        metavar="COORDINATOR,CONTROLLER",
        help="only subscribe the coordinator, the controller and a manager it adds to reports, "
        "once",
    )


PARSERS = {"demo": _demo_parser}
