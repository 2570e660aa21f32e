"""What an import says is wrong: a problem names its file, line, column and reason."""

from __future__ import annotations

from dataclasses import dataclass

from arrears.core.errors import DomainError

MAX_ERRORS = 50


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}, line {self.line}"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.reason}"


class BookImportError(DomainError):
    """Bad input: nothing was imported. `problems` lists each with file, line, column, reason."""

    code = "import_invalid"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        head = "\n".join(str(p) for p in problems[:MAX_ERRORS])
        more = len(problems) - MAX_ERRORS
        if more > 0:
            head += f"\n… and {more} more"
        super().__init__(
            f"{head}\nNothing was imported.",
            problems=[
                {"file": p.file, "line": p.line, "column": p.column, "reason": p.reason}
                for p in problems[:MAX_ERRORS]
            ],
        )


class RowError(Exception):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason
