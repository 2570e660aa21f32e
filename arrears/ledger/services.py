"""Writes to the book, by one name each for the other parts: the import of the interchange format
(`importing`), charges, credits and refunds posted outside an import and the lock a decision takes
(`posting`), and the replay of cash application (`replay`).

Invariants:
- an import is one database transaction: any bad row and nothing changes;
- transactions are only inserted; a row whose id exists must be identical (then it is skipped);
- after any change to an account's transactions its allocations, deltas and open items are
  rebuilt from its whole history (`accounts_replay`), and only that account's.
"""

from __future__ import annotations

from arrears.ledger.importing import ImportSummary, Progress, book_import
from arrears.ledger.posting import (
    NewCharge,
    NewCredit,
    NewRefund,
    book_lock,
    charges_post,
    credits_post,
    refunds_post,
)
from arrears.ledger.replay import accounts_replay

__all__ = [
    "ImportSummary",
    "NewCharge",
    "NewCredit",
    "NewRefund",
    "Progress",
    "accounts_replay",
    "book_import",
    "book_lock",
    "charges_post",
    "credits_post",
    "refunds_post",
]
