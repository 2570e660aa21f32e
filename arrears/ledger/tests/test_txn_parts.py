"""A transactions file read in parts (`txn_parts`, `txn_import._copy_in_parts`): the parts'
records, line numbers and all, are those of the file read whole; the book an import in parts
writes, and every refusal, are those of an import in one process."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.ledger import txn_import, txn_parts
from arrears.ledger.interchange.sources import _csv_rows
from arrears.ledger.models import Transaction
from arrears.ledger.periods import period_close
from arrears.ledger.selectors import aging_report
from arrears.ledger.services import book_import
from arrears.ledger.tests.elm_court import (
    AGING_DATES,
    ELM_COURT,
    derived_rows,
    import_problems,
    imported_then_undone,
    transaction_rows,
    write_book,
)

HEADER = "txn_id,account_id,posted,type,amount,code,due,applies_to,reverses,reference,memo"


def _whole(path: Path) -> list[tuple[int, list[str]]]:
    """The records after the header, as the one-process reader numbers them."""
    return list(_csv_rows(lambda: path.open("rb"), path.name, None))[1:]


def _in_parts(path: Path, count: int) -> list[tuple[int, list[str]]] | None:
    parts = txn_parts.split(path, count)
    if parts is None:
        return None
    return [record for part in parts for record in txn_parts.records(path, part)]


memos = st.sampled_from(["", "rent", '"a, b"', '"two\nlines"', '"said ""hi"""', '"\r\n"'])


@settings(max_examples=60, deadline=None)
@given(
    memos=st.lists(memos, min_size=1, max_size=40),
    crlf=st.booleans(),
    blank=st.booleans(),
    count=st.integers(1, 9),
)
def test_the_parts_read_what_the_whole_file_reads(tmp_path_factory, memos, crlf, blank, count):
    # given: a file whose memos hold commas, quotes and line breaks in quotes
    end = "\r\n" if crlf else "\n"
    lines = [HEADER] + [f"t{n},A1,2026-01-01,charge,1.00,RENT,,,,,{m}" for n, m in enumerate(memos)]
    if blank:
        lines.insert(2, "")
    path = tmp_path_factory.mktemp("parts") / "transactions.csv"
    path.write_bytes(end.join(lines).encode())
    # when: it is cut into parts, each read alone
    read = _in_parts(path, count)
    # then: the same records on the same lines (a part is never cut inside quotes)
    assert read == _whole(path)


def test_a_file_with_lone_carriage_returns_is_not_cut(tmp_path):
    path = tmp_path / "transactions.csv"
    path.write_bytes(f"{HEADER}\rt1,A1,2026-01-01,charge,1.00,RENT,,,,,\r".encode())
    assert txn_parts.split(path, 4) is None


def test_a_header_alone_is_not_cut(tmp_path):
    path = tmp_path / "transactions.csv"
    path.write_bytes(f"{HEADER}\n".encode())
    assert txn_parts.split(path, 4) is None


def test_a_stray_quote_that_fools_the_count_makes_a_part_unreadable(tmp_path):
    # given: a quote inside an unquoted field (taken literally by the reader), so that the
    # count of quotes puts the next line breaks inside quotes
    rows = [HEADER, 't1,A1,2026-01-01,charge,1.00,RENT,,,,,5" pipe']
    rows += [f"t{n},A1,2026-01-01,charge,1.00,RENT,,,,,x" for n in range(2, 40)]
    rows += [
        't40,A1,2026-01-01,charge,1.00,RENT,,,,,"quoted\nmemo"',
        "t41,A1,2026-01-01,charge,1.00,RENT,,,,,y",
    ]
    path = tmp_path / "transactions.csv"
    path.write_bytes("\n".join(rows).encode())
    # when / then: either the parts read what the whole file reads, or a part says it cannot be
    # read alone (the import then reads the file in one process)
    try:
        read = _in_parts(path, 8)
    except txn_parts.UnsafeSplitError:
        return
    assert read == _whole(path)


@pytest.fixture
def in_parts(monkeypatch, settings):
    """Every transactions file is read in parts by two processes (and replayed by two)."""
    monkeypatch.setattr(txn_import, "REPLAY_PROCESSES_BYTES", 0)
    settings.ARREARS_IMPORT_PROCESSES = 2


def _elm_court_at_length() -> dict[str, str]:
    """Elm Court with a year of alice's and bob's rent and payments more, memos with commas,
    quotes and line breaks, so that the file makes several parts."""
    files = dict(ELM_COURT)
    rows = []
    for month in range(4, 13):
        for who, rent in (("alice-1A", "2000.00"), ("bob-2B", "1500.00")):
            key = f"{who[0]}{month}"
            rows.append(
                f"{key}c,{who},2026-{month:02d}-01,charge,{rent},RENT,2026-{month:02d}-01,,\n"
            )
            rows.append(f"{key}p,{who},2026-{month:02d}-03,payment,{rent},,,{key}c,\n")
    files["transactions.csv"] = files["transactions.csv"] + "".join(rows)
    return files


def _written() -> dict[str, object]:
    """Every row an import writes, named by the ids of the book's files rather than by serial
    keys (a rolled-back import spends them; the transactions' own ids, base + line, it does not),
    and the aging."""
    return {
        "transaction_ids": list(Transaction.objects.order_by("pk").values_list("id", flat=True)),
        "transactions": transaction_rows(),
        "derived": derived_rows(),
        "aging": [r.as_json() for d in AGING_DATES for r in aging_report(as_of=d)],
    }


@pytest.mark.postgres
@pytest.mark.django_db
def test_an_import_in_parts_writes_what_one_process_writes(tmp_path, in_parts, settings):
    # given: a long Elm Court, imported in parts by two processes, then rolled back
    write_book(tmp_path / "book", _elm_court_at_length())
    _, in_parts_written = imported_then_undone(tmp_path / "book", _written)
    # when: imported in one process
    settings.ARREARS_IMPORT_PROCESSES = 1
    book_import(tmp_path / "book")
    # then: the same rows, ids and all, the same cash application, the same aging
    assert _written() == in_parts_written
    assert len(in_parts_written["transactions"]) == 11 + 36  # type: ignore[arg-type]


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_row_in_a_closed_month_is_refused_by_its_line_as_in_one_process(
    tmp_path, in_parts, settings
):
    # given: December 2025 closed (the book starts in January), and a long file with a row of
    # December at its end
    period_close(month=date(2025, 12, 1), actor="controller", on=date(2026, 1, 2))
    files = _elm_court_at_length()
    files["transactions.csv"] += "x9,alice-1A,2025-12-20,charge,75.00,LATE,2025-12-20,,\n"
    # when: imported in parts, then in one process
    in_parts_problems = import_problems(write_book(tmp_path / "a", files))
    settings.ARREARS_IMPORT_PROCESSES = 1
    one = import_problems(write_book(tmp_path / "b", files))
    # then: the same refusal of the same line
    assert in_parts_problems == one
    assert [p.line for p in one] == [files["transactions.csv"].count("\n")]
    assert not Transaction.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize(
    "bad",
    [
        "x9,nobody,2026-03-05,charge,75.00,LATE,2026-03-05,,\n",  # an unknown account
        "x9,alice-1A,2026-13-05,charge,75.00,LATE,2026-03-05,,\n",  # no such date
        "x9,alice-1A,2026-03-05,charge,-75.00,LATE,2026-03-05,,\n",  # a negative amount
    ],
)
def test_a_bad_row_in_a_part_is_named_as_in_one_process(tmp_path, in_parts, settings, bad):
    # given: a long file with a bad row near its start and another near its end
    files = _elm_court_at_length()
    head, *rest = files["transactions.csv"].splitlines(keepends=True)
    files["transactions.csv"] = head + rest[0] + bad + "".join(rest[1:]) + bad
    # when: imported in parts, then in one process
    in_parts_problems = import_problems(write_book(tmp_path / "a", files))
    settings.ARREARS_IMPORT_PROCESSES = 1
    one = import_problems(write_book(tmp_path / "b", files))
    # then: the same problems, by line, and nothing imported
    assert in_parts_problems == one
    assert [p.line for p in one] == [3, len(rest) + 3]


def test_the_csv_module_refuses_a_part_that_ends_inside_quotes():
    # The premise of UnsafeSplitError: a part cut inside a quoted field cannot be read alone.
    with pytest.raises(csv.Error):
        list(csv.reader(io.StringIO('a,"b\n', newline=""), strict=True))


def test_a_quote_that_flips_the_count_for_the_rest_of_a_long_file_is_read_once(tmp_path):
    # given: a stray quote on the first row, then 200,000 rows: every line break after it
    # counts as inside quotes (a cut scanning the block again for each would never end)
    row = "t{},A1,2026-01-01,charge,1.00,RENT,,,,,x\n"
    text = HEADER + "\n" + row.format(0).replace(",x", ',5" pipe')
    text += "".join(row.format(n) for n in range(1, 200_000))
    path = tmp_path / "transactions.csv"
    path.write_text(text)
    # when
    parts = txn_parts.split(path, 8)
    # then: no part starts after the stray quote but the first; read, they are the whole file
    assert parts is not None
    assert len(parts) == 1
    assert _in_parts(path, 8) == _whole(path)
