"""A large transactions file read in parts by several processes (PostgreSQL): where each part
starts, its records with their line numbers, and its rows in PostgreSQL's binary COPY format
(its documentation, "COPY", "Binary Format"), which the import's own process copies into the
book part after part, in file order, without looking at a row (`txn_import._copy_in_parts`).

Why: reading and checking the rows is Python, a row after another, and was a third of an import
(63 s of 196 s at 10M transactions); the rows of a file are independent until they name each
other, which the import checks in SQL afterwards, so parts of a file can be read side by side.

A part starts at a line break outside quotes, found by counting the quote characters before it
(an even count: outside). A quote inside an unquoted field would fool the count; the split it
would give then leaves a part ending inside a quoted field, which the strict CSV reader refuses
("unexpected end of data"), and any part refused sends the whole file down the one-process
path (`UnsafeSplitError`), which reads it as it always did and names the real problem if there
is one. A file whose lines end in a lone carriage return (which the reader counts as line
breaks) is never split. Line numbers are the one-process reader's: a part's first line is one
more than the line breaks before it.
"""

from __future__ import annotations

import csv
import io
import itertools
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

BLOCK = 8 << 20  # bytes scanned at a time for the parts' starts


class UnsafeSplitError(Exception):
    """A part could not be read on its own: the file is read in one process instead."""


@dataclass(frozen=True)
class Part:
    start: int  # byte offset of its first line
    end: int  # byte offset past its last line
    first_line: int  # the line number of its first line (the header is line 1)


def split(path: Path, count: int) -> list[Part] | None:
    """The file at `path` cut after its header into about `count` parts of as many bytes, each
    starting at a line break outside quotes; None when it cannot be (a lone carriage return, a
    header that ends inside quotes, no line after the header)."""
    size = path.stat().st_size
    lines = quotes = 0  # before the block scanned
    starts: list[tuple[int, int]] = []  # (offset, line breaks before it)
    target = 0  # the header's end is the first start
    carriage = False  # the last block ended in a carriage return
    with path.open("rb") as stream:
        offset = 0
        while block := stream.read(BLOCK):
            if block.count(b"\r") != block.count(b"\r\n") + (block.endswith(b"\r")):
                return None
            if carriage and not block.startswith(b"\n"):
                return None
            carriage = block.endswith(b"\r")
            # Counted up to `seen` in this block, once each: a quote that flips the count for
            # the rest of the file makes every line break a candidate, each a step, not a rescan.
            seen = 0
            while len(starts) <= count and target < offset + len(block):
                found = block.find(b"\n", max(seen, target - offset))
                if found < 0:
                    break
                quotes += block.count(b'"', seen, found)
                lines += block.count(b"\n", seen, found) + 1
                seen = found + 1
                if quotes % 2 == 0:
                    starts.append((offset + seen, lines))
                    target = starts[0][0] + (size - starts[0][0]) * len(starts) // count
            lines += block.count(b"\n", seen)
            quotes += block.count(b'"', seen)
            offset += len(block)
    if carriage or not starts or starts[0][0] >= size:
        return None
    bounds = [s for s in starts if s[0] < size] + [(size, lines)]
    return [
        Part(start, end, before + 1)
        for (start, before), (end, _) in itertools.pairwise(bounds)
        if end > start
    ]


def records(path: Path, part: Part) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of each non-blank record of `part`, as `sources._csv_rows` reads
    them; UnsafeSplitError for bytes that are not UTF-8 or bad quoting (the one-process path
    names them)."""
    with path.open("rb") as stream:
        stream.seek(part.start)
        data = stream.read(part.end - part.start)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UnsafeSplitError from None
    del data
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = part.first_line
    try:
        for record in reader:
            line, start = start, part.first_line + reader.line_num
            if not record or record == [""]:
                continue
            yield line, record
    except csv.Error:
        raise UnsafeSplitError from None


# A transaction row as the import copies it (txn_import's BOOK_COLUMNS): id, txn_id, account,
# posted, type, amount in cents, code, due, applies_to, reverses, reference, memo, extra.
_EPOCH = date(2000, 1, 1).toordinal()  # PostgreSQL's binary dates count days from it
_NULL = struct.pack(">i", -1)
_INT8 = struct.Struct(">iq")
_DATE = struct.Struct(">ii")
_COUNT = struct.pack(">h", 13)


def _text(value: str) -> bytes:
    raw = value.encode()
    return struct.pack(">i", len(raw)) + raw


class BinaryRows:
    """Transaction rows (tuples of the import's columns, `txn_import._direct`) in binary COPY
    format; `json` writes an `extra` dict as its JSON text."""

    def __init__(self, json: Any) -> None:
        self.json = json
        self.days: dict[date, bytes] = {}

    def _date(self, day: date | None) -> bytes:
        if day is None:
            return _NULL
        packed = self.days.get(day)
        if packed is None:
            packed = self.days[day] = _DATE.pack(4, day.toordinal() - _EPOCH)
        return packed

    def row(self, values: tuple[Any, ...]) -> bytes:
        pk, txn_id, account, posted, kind, cents, code, due, applies, reverses, ref, memo, extra = (
            values
        )
        if extra:
            raw = b"\x01" + self.json(extra).encode()  # jsonb: its version, then the text
            extra_field = struct.pack(">i", len(raw)) + raw
        else:
            extra_field = _NULL
        return b"".join(
            (
                _COUNT,
                _INT8.pack(8, pk),
                _text(txn_id),
                _INT8.pack(8, account),
                self._date(posted),
                _text(kind),
                _INT8.pack(8, cents),
                _text(code),
                self._date(due),
                _NULL if applies is None else _INT8.pack(8, applies),
                _NULL if reverses is None else _INT8.pack(8, reverses),
                _text(ref),
                _text(memo),
                extra_field,
            )
        )
