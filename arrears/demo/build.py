"""The demo book: generated once, deterministically, and imported into the database.

After the import, the collection cycle is run once for each of the book's last `DEMO_CYCLE_DAYS`
days, oldest first, so that the timeline, the letters queue and the worklist have something in
them. The cycle belongs to a higher layer (`arrears.dunning`), so the caller hands it in as
`cycle`, a function of the run's date.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from arrears.core.dates import today
from arrears.demo.book import write_demo_book
from arrears.ledger.models import Transaction
from arrears.ledger.services import book_import

DEMO_SEED = 2026
DEMO_CYCLE_DAYS = 60
PROGRESS_EVERY = 10


def demo_cycle_days(end: date) -> list[date]:
    """The days the demo runs the cycle on: the last `DEMO_CYCLE_DAYS` up to `end`, oldest first."""
    return [end - timedelta(days=n) for n in range(DEMO_CYCLE_DAYS - 1, -1, -1)]


def demo_build(
    *,
    force: bool = False,
    cycle: Callable[[date], Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> str:
    """Generate and import the demo book unless the book already has entries; says what it did.

    With `cycle`, it is then called for each of `demo_cycle_days(today())`. Each line said goes to
    `progress` (if any) as it happens, one every `PROGRESS_EVERY` days of the cycle; all the lines
    are returned too.
    """
    lines: list[str] = []

    def say(line: str) -> None:
        lines.append(line)
        if progress:
            progress(line)

    if Transaction.objects.exists() and not force:
        say("The book already has entries; the demo book was not built again (--force does).")
        return "\n".join(lines)
    end = today()
    with tempfile.TemporaryDirectory(prefix="arrears-demo-") as folder:
        summary = write_demo_book(Path(folder), today=end, seed=DEMO_SEED)
        result = book_import(Path(folder))
    say(
        f"Demo book built: {summary.properties} properties, {summary.accounts} accounts, "
        f"{summary.transactions} transactions up to {end.isoformat()}. {result.line()}"
    )
    if cycle is not None:
        days = demo_cycle_days(end)
        for done, day in enumerate(days, start=1):
            cycle(day)
            if done % PROGRESS_EVERY == 0:
                say(f"  collection cycle: {done}/{len(days)} days run, through {day.isoformat()}")
    return "\n".join(lines)
