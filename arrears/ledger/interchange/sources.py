"""Reading the sources of a book (a folder, a `.zip`, an `.xlsx` or one `.csv`) into records:
(line number, fields) of each non-blank row, the header first. Bytes that are not UTF-8 and bad
CSV quoting are refused with the file and line."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from arrears.ledger.interchange.errors import BookImportError, Problem
from arrears.ledger.interchange.formats import FILE_KINDS, FileKind

csv.field_size_limit(1 << 24)


@dataclass
class SourceFile:
    """One file kind of a book: where it is and how to read its rows."""

    kind: FileKind
    label: str  # the name errors use
    size: int
    open_rows: Callable[[Callable[[int], None] | None], Iterator[tuple[int, list[str]]]]
    header: list[str] = field(default_factory=list)
    ragged: bool = False  # a worksheet: rows may stop short of the header or run past it empty
    path: Path | None = None  # a CSV file of its own on disk (not in a zip), read in parts


def _csv_rows(
    open_bytes: Callable[[], IO[bytes]], label: str, progress: Callable[[int], None] | None
) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of each non-blank record; the header is line 1."""
    with open_bytes() as stream:
        counting = _CountingReader(stream, progress)
        text = io.TextIOWrapper(counting, encoding="utf-8-sig", newline="")  # type: ignore[arg-type,type-var]
        reader = csv.reader(text, strict=True)
        start = 1
        try:
            for record in reader:
                line, start = start, reader.line_num + 1
                if not record or record == [""]:
                    continue
                yield line, record
        except UnicodeDecodeError as exc:
            # The decoder reads ahead of the reader: find the line of the bad bytes itself.
            line = _first_non_utf8_line(open_bytes) or start
            raise BookImportError(
                [Problem(label, line, "", f"the file is not UTF-8 text ({exc.reason})")]
            ) from None
        except csv.Error as exc:
            raise BookImportError([Problem(label, start, "", f"bad CSV quoting: {exc}")]) from None


def _first_non_utf8_line(open_bytes: Callable[[], IO[bytes]]) -> int | None:
    with open_bytes() as stream:
        for number, raw in enumerate(stream, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return None


class _CountingReader(io.RawIOBase):
    """A byte stream that reports how much has been read, for the progress bar."""

    def __init__(self, inner: IO[bytes], progress: Callable[[int], None] | None) -> None:
        self.inner = inner
        self.progress = progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.inner.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        if self.progress and n:
            self.progress(n)
        return n


def _xlsx_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # Excel keeps numbers as binary floats; the shortest repr is the number typed in.
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    return str(value)


def open_book(path: Path) -> list[SourceFile]:
    """The files of a book at `path` (a folder, a .zip or an .xlsx), in import order.

    Raises BookImportError when the path does not exist, holds no book file, or an unknown file.
    """
    if not path.exists():
        raise BookImportError([Problem(str(path), 0, "", "no such file or folder")])
    if path.is_dir():
        return _folder_files(path)
    if path.suffix.lower() == ".zip":
        return _zip_files(path)
    if path.suffix.lower() == ".xlsx":
        return _xlsx_files(path)
    if path.suffix.lower() == ".csv":
        kind = _kind_of(path.name)
        if kind is None:
            raise BookImportError([Problem(path.name, 0, "", _unknown_file_reason())])
        return [_plain_file(kind, path)]
    raise BookImportError(
        [Problem(str(path), 0, "", "a book is a folder, a .zip, an .xlsx or one of its .csv files")]
    )


def _unknown_file_reason() -> str:
    names = ", ".join(k.filename for k in FILE_KINDS)
    return f"not a file of the interchange format (expected one of {names})"


def _kind_of(name: str) -> FileKind | None:
    stem = name.lower().removesuffix(".csv")
    return next((k for k in FILE_KINDS if k.name == stem), None)


def _plain_file(kind: FileKind, path: Path) -> SourceFile:
    def rows(progress: Callable[[int], None] | None) -> Iterator[tuple[int, list[str]]]:
        return _csv_rows(lambda: path.open("rb"), path.name, progress)

    return SourceFile(kind, path.name, path.stat().st_size, rows, path=path)


def _folder_files(folder: Path) -> list[SourceFile]:
    found: dict[str, SourceFile] = {}
    for child in sorted(folder.iterdir()):
        if child.is_file() and child.suffix.lower() == ".csv":
            kind = _kind_of(child.name)
            if kind is None:
                raise BookImportError([Problem(child.name, 0, "", _unknown_file_reason())])
            found[kind.name] = _plain_file(kind, child)
    if not found:
        raise BookImportError([Problem(str(folder), 0, "", "the folder holds no book file")])
    return [found[k.name] for k in FILE_KINDS if k.name in found]


def _zip_files(path: Path) -> list[SourceFile]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise BookImportError([Problem(path.name, 0, "", "not a readable zip file")]) from None
    found: dict[str, SourceFile] = {}
    with archive:
        for info in archive.infolist():
            name = info.filename.rsplit("/", 1)[-1]
            if info.is_dir() or name.startswith(".") or not name.lower().endswith(".csv"):
                continue
            kind = _kind_of(name)
            label = f"{path.name}:{info.filename}"
            if kind is None:
                raise BookImportError([Problem(label, 0, "", _unknown_file_reason())])
            if kind.name in found:
                raise BookImportError([Problem(label, 0, "", f"a second {kind.filename}")])

            def rows(
                progress: Callable[[int], None] | None, member: str = info.filename, lb: str = label
            ) -> Iterator[tuple[int, list[str]]]:
                with zipfile.ZipFile(path) as again:
                    yield from _csv_rows(lambda: again.open(member), lb, progress)

            found[kind.name] = SourceFile(kind, label, info.compress_size, rows)
    if not found:
        raise BookImportError([Problem(path.name, 0, "", "the zip holds no book file")])
    return [found[k.name] for k in FILE_KINDS if k.name in found]


def _xlsx_files(path: Path) -> list[SourceFile]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise BookImportError(
            [Problem(path.name, 0, "", f"not a readable workbook: {exc}")]
        ) from None
    found: dict[str, SourceFile] = {}
    names = list(workbook.sheetnames)
    workbook.close()
    for sheet in names:
        kind = _kind_of(sheet.strip())
        label = f"{path.name}[{sheet}]"
        if kind is None:
            raise BookImportError(
                [
                    Problem(
                        label,
                        0,
                        "",
                        "not a sheet of the interchange format: " + _unknown_file_reason(),
                    )
                ]
            )

        def rows(
            progress: Callable[[int], None] | None, name: str = sheet, lb: str = label
        ) -> Iterator[tuple[int, list[str]]]:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
            number = 0
            try:
                sheet_rows = book[name].iter_rows(values_only=True)
                while True:
                    try:
                        values = next(sheet_rows, None)
                    except Exception as exc:  # the sheet's XML breaks off (a NUL reference, …)
                        # Its parser reads ahead: the fault is on this row or a later one.
                        reason = f"the sheet cannot be read past row {number}: {exc}"
                        raise BookImportError([Problem(lb, number + 1, "", reason)]) from None
                    if values is None:
                        return
                    number += 1
                    record = [_xlsx_cell(v) for v in values]
                    if any(record):
                        yield number, record
            finally:
                book.close()

        found[kind.name] = SourceFile(kind, label, 0, rows, ragged=True)
    return [found[k.name] for k in FILE_KINDS if k.name in found]
