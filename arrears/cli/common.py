"""What every command module of the `arrears` command shares: adding a command, the argument
types, the database check, and the output (tables, money, JSON, the progress bar).

Nothing here imports Django or a part at module level: the parser is built before Django is set
up, and `arrears COMMAND --help` should not pay for what it does not run.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import math
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any, TextIO

AS_HELP = (
    "the Arrears user who makes the change (default: ARREARS_USER); a system job run "
    "without one is recorded as system:<OS login>"
)


def command(
    sub: Any, name: str, func: Callable[[argparse.Namespace], int], help: str
) -> argparse.ArgumentParser:
    """Add the subcommand NAME that runs FUNC(args) and returns its exit status."""
    p: argparse.ArgumentParser = sub.add_parser(name, help=help, description=help)
    p.set_defaults(func=func)
    return p


def date(text: str) -> datetime.date:
    """An argument that is a day of the book's calendar, YYYY-MM-DD."""
    from arrears.core.dates import EARLIEST, LATEST, in_calendar

    try:
        day = datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None
    if not in_calendar(day):
        raise argparse.ArgumentTypeError(
            f"{text} is outside the book's calendar ({EARLIEST} to {LATEST})"
        )
    return day


def seconds(text: str) -> float:
    """An argument that is a wait in seconds: a number, 0 or more (a wait of "nan" would never
    end, and one of -5 would give up before asking)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"a wait is a number of seconds, 0 or more: {text!r}")
    return value


def amount(text: str) -> Decimal:
    """An argument that is an amount of money: a decimal with at most two places."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not an amount: {text!r}") from None
    if value != value.quantize(Decimal("0.01")):
        raise argparse.ArgumentTypeError(f"an amount has at most two decimals: {text!r}")
    return value


def migrate() -> None:
    """Create or migrate the database named by DATABASE_URL."""
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def ensure_migrated() -> None:
    """DomainError unless the database is set up (`arrears init`) and its migrations applied."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        from arrears.core.errors import DomainError

        raise DomainError("the database is not set up: run `arrears init` first")


@contextlib.contextmanager
def output(args: argparse.Namespace) -> Iterator[TextIO]:
    """Where a command writes: the file `--output` names (closed at the end), else stdout."""
    if getattr(args, "output", None):
        with open(args.output, "w", encoding="utf-8", newline="") as out:
            yield out
    else:
        yield sys.stdout


def table(headers: list[str], rows: list[list[str]], out: TextIO, numeric: range) -> None:
    """Columns padded to their widest cell under a rule, the `numeric` ones right-aligned."""
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]

    def render(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in numeric else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    out.write(render(headers) + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for row in rows:
        out.write(render(row) + "\n")


def money(text: str) -> str:
    """An amount as JSON carries it ("-1234.50") with thousands separated: "-1,234.50"."""
    whole, _, cents = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    return f"{sign}{int(whole.lstrip('-')):,}.{cents}"


def write_json(
    doc: Any, out: TextIO | None = None, *, indent: int | None = 1, default: Any = None
) -> None:
    """`doc` as JSON (indented by `indent`) and a line break, on `out` or standard output: the
    `--format json` of the commands. `default` words what JSON has no type for (`json.dump`'s)."""
    stream = sys.stdout if out is None else out
    json.dump(doc, stream, indent=indent, default=default)
    stream.write("\n")


def write_json_lists(doc: dict[str, Any], out: TextIO) -> None:
    """`doc` as JSON with each element of its lists on a line of its own: readable, easy to grep
    and diff, and written by the C encoder (`indent` would take the slow pure-Python one)."""
    out.write("{")
    for n, (name, value) in enumerate(doc.items()):
        out.write(("," if n else "") + "\n " + json.dumps(name) + ": ")
        if isinstance(value, list) and value:
            out.write("[\n  " + ",\n  ".join(map(json.dumps, value)) + "\n ]")
        else:
            out.write(json.dumps(value))
    out.write("\n}\n")


def write_json_rows(rows: Iterable[dict[str, Any]], out: TextIO) -> None:
    """`rows` as a JSON list, a row to a line, written as they come (an iterator is never held
    whole) and with their text as it is (`ensure_ascii=False`)."""
    out.write("[")
    for n, row in enumerate(rows):
        out.write(("," if n else "") + "\n " + json.dumps(row, ensure_ascii=False))
    out.write("\n]\n")


class ProgressBar:
    """A one-line progress bar on a terminal; silent when standard error is not one."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self.last = 0.0
        self.started = time.monotonic()

    def __call__(self, label: str, done: int, total: int) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.last < 0.1:
            return
        self.last = now
        width = 30
        share = min(done / total, 1.0) if total else 0.0
        bar = "#" * int(share * width)
        self.stream.write(
            f"\r{label[:28]:28} [{bar:{width}}] {share:4.0%} {done / 1e6:7.1f} MB "
            f"{now - self.started:5.1f}s"
        )
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.last:
            self.stream.write("\r" + " " * 90 + "\r")
            self.stream.flush()


def as_everywhere(parser: argparse.ArgumentParser) -> None:
    """`--as USER` after any command too (`arrears note A1 "…" --as alice`); given there, it
    wins over the one before the command."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                child.add_argument(
                    "--as", dest="as_user", metavar="USER", default=argparse.SUPPRESS, help=AS_HELP
                )
                as_everywhere(child)
