"""A source export once translated: the interchange files to import, and what the import must
settle against the book before it reads them (reversals of the book's payments, a ledger's
carried balance, an account's earlier opening), and how to word its problems in the source's
terms."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from arrears.ledger.interchange.errors import BookImportError, Problem
from arrears.ledger.interchange.formats import (
    ACCOUNT_PARTIES,
    ACCOUNTS,
    PARTIES,
    TRANSACTIONS,
    FileKind,
)
from arrears.ledger.interchange.mapping.spec import Mapping
from arrears.ledger.interchange.mapping.values import fmt
from arrears.ledger.interchange.sources import SourceFile

KINDS = (PARTIES.name, ACCOUNTS.name, ACCOUNT_PARTIES.name, TRANSACTIONS.name)


@dataclass
class Out:
    """The rows of one interchange file kind, with the source line of each."""

    kind: FileKind
    header: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)


@dataclass
class MappedBook:
    """A source file translated: the interchange files to import, and how to word their
    problems in the source's terms."""

    sources: list[SourceFile]
    origins: dict[tuple[str, str], list[str]]  # (file kind, interchange column) -> source columns
    mapping: Mapping
    opening_accounts: dict[str, tuple[int, str]]  # aging: account_id -> (line, txn id prefix)
    # (file kind, row number of the generated file) -> the source's line. The importer numbers
    # a file's rows from 2 without gaps (its ids are the book's last id + line), and one source
    # line may make several rows (an aging line's buckets).
    lines: dict[tuple[str, int], int] = field(default_factory=dict)
    # A ledger with a running balance: account -> (its first line, the balance column, what the
    # export says it owed before that line, the first day of its rows, the file's txn ids of it)
    carried: dict[str, tuple[int, str, Decimal, date, list[str]]] = field(default_factory=dict)
    # account -> its earliest date in the file, where `opened` was not given by the mapping
    derived_opened: dict[str, date] = field(default_factory=dict)

    accounts_out: Out | None = None
    txns_out: Out | None = None
    # Reversals of a payment the file does not hold: (line, column, account, amount)
    unresolved: list[tuple[int, str, str, Decimal]] = field(default_factory=list)

    def resolve_reversals(
        self, payments: dict[str, list[tuple[str, Decimal]]], label: str
    ) -> list[Problem]:
        """Name, for each reversal whose payment is not in the file, the book's latest payment
        of its amount to its account not reversed yet (`payments`: account -> (txn id, amount),
        oldest first); returns a problem for each that has none."""
        out = self.txns_out
        if out is None or not self.unresolved:
            return []
        problems = []
        reverses = out.header.index("reverses")
        by_line = {(line, row[out.header.index("type")]): row for line, row in out.rows}
        for line, column, account_id, amount in self.unresolved:
            row = by_line[(line, "reversal")]
            candidates = payments.get(account_id, [])
            found = next(
                (i for i in range(len(candidates) - 1, -1, -1) if candidates[i][1] == amount),
                None,
            )
            if found is None:
                problems.append(
                    Problem(
                        label,
                        line,
                        column,
                        f"a reversal of {fmt(amount)} with no earlier payment of {fmt(amount)} "
                        f"to account {account_id!r}, in this file or in the book, to reverse",
                    )
                )
                continue
            row[reverses] = candidates.pop(found)[0]
        return problems

    def keep_opened(self, held: dict[str, date]) -> None:
        """An account the book holds keeps its `opened` where it is earlier than this file's
        first row (an export of a later month does not move the lease's start)."""
        out = self.accounts_out
        if out is None or not self.derived_opened:
            return
        column = out.header.index("opened")
        ids = out.header.index("account_id")
        for _line, row in out.rows:
            opened = held.get(row[ids])
            if opened is not None and opened.isoformat() < row[column]:
                row[column] = opened.isoformat()

    def explain(self, error: BookImportError) -> BookImportError:
        """The import's problems named by the source's lines and columns (the interchange column
        in the reason)."""
        problems = []
        for p in error.problems:
            label, kind = p.file, ""
            for name in KINDS:
                if p.file.endswith(f" ({name})"):
                    label, kind = p.file.removesuffix(f" ({name})"), name
            line = self.lines.get((kind, p.line), p.line)
            cols = self.origins.get((kind, p.column))
            if cols:
                problems.append(Problem(label, line, ", ".join(cols), f"{p.column}: {p.reason}"))
            else:
                problems.append(Problem(label, line, p.column, p.reason))
        return BookImportError(problems)
