"""The demo book: generated once, deterministically, and imported into the database."""

from __future__ import annotations

import tempfile
from pathlib import Path

from arrears.core.dates import today
from arrears.ledger.demo import write_demo_book
from arrears.ledger.models import Transaction
from arrears.ledger.services import book_import

DEMO_SEED = 2026


def demo_build(*, force: bool = False) -> str:
    """Generate and import the demo book unless the book already has entries; says what it did."""
    if Transaction.objects.exists() and not force:
        return "The book already has entries; the demo book was not built again (--force does)."
    with tempfile.TemporaryDirectory(prefix="arrears-demo-") as folder:
        summary = write_demo_book(Path(folder), today=today(), seed=DEMO_SEED)
        result = book_import(Path(folder))
    return (
        f"Demo book built: {summary.properties} properties, {summary.accounts} accounts, "
        f"{summary.transactions} transactions up to {today().isoformat()}. {result.line()}"
    )
