"""The fast transaction parser and the complete one give the same answer for any row.

An import reads a clean transaction row by column position (`interchange.fast`) and leaves every
other row to the complete path (`interchange.rows.check_row`), which names the first problem. The
fast parser may only take a row the complete one takes, to the same value: hypothesis writes rows
of good and bad fields (dates in and out of the calendar and past the book's horizon, amounts with
many decimals or a sign, currencies and symbols, codes, blank cells, NUL bytes, control and other
unicode characters), under headers with any subset of the optional columns in any order, and
checks both parsers and `read_rows`, which combines them, against each other. No database.
"""

from datetime import date, timedelta

from hypothesis import event, given, settings
from hypothesis import strategies as st

from arrears.core.dates import EARLIEST, LATEST
from arrears.ledger.interchange import (
    TRANSACTIONS,
    Problem,
    RowError,
    SourceFile,
    TxnRow,
    check_row,
    latest_date,
    read_rows,
)
from arrears.ledger.interchange.fast import fast_transaction_parser

TODAYS = (date(2026, 11, 1), date(2026, 1, 31), LATEST - timedelta(days=100))

ALMOST_DATES = (
    "2026-02-30",
    "2026-3-05",
    "20260305",
    "2026-03-05 ",
    "2026/03/05",
    "٢٠٢٦-03-05",
    "２０２６-０３-０５",
    "+026-03-05",
    "2026-13-01",
    "0000-01-01",
    "2026-W10-1",
    "2026-03-0",
)
any_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
nasty = st.sampled_from(["", " ", "\x00", "\t", "\n", "\r\n", "\x0b", "\x85", "\u2028", "é", "Ω"])
ids = st.one_of(
    st.sampled_from(["t1", "t2", "c1", "alice-1A", "A.b:c_d-9", "x" * 64]),
    st.sampled_from(["", " t1", "t1 ", "sub/dir", "../x", "-t1", "x" * 65, "té1", "t\x001"]),
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,70}", fullmatch=True),
)


def date_texts(today):
    """Dates as a file may hold them: any day of years 1 to 9999, the edges of the calendar and
    of the book's horizon (a year after `today`), and text that is almost a date."""
    latest = latest_date(today)
    edges = [EARLIEST, LATEST, latest, today]
    near = st.sampled_from(edges).flatmap(
        lambda day: st.integers(-2, 2).map(lambda n: day + timedelta(days=n))
    )
    almost = st.sampled_from(ALMOST_DATES)
    return st.one_of(near.map(date.isoformat), st.dates().map(date.isoformat), almost)


amounts = st.one_of(
    st.builds(
        lambda sign, whole, point, places: sign + whole + point + places,
        st.sampled_from(["", "", "", "-", "+", " "]),
        st.from_regex(r"[0-9]{0,14}", fullmatch=True),
        st.sampled_from(["", ".", "."]),
        st.from_regex(r"[0-9]{0,5}", fullmatch=True),
    ),
    st.sampled_from(["0", "0.00", "0.0", ".5", "5.", "1e3", "1,000.00", "$10.00", "10.00 USD"]),
    st.sampled_from(["١٠.00", "１０.00", "NaN", "Infinity", "-0", "999999999999.99", "1" * 13]),
)
types = st.sampled_from(["charge", "payment", "credit", "reversal", "refund", "Charge", "", " "])
codes = st.one_of(
    st.sampled_from(["RENT", "LATE", "NSF-1", "A_B", "9", "A" * 20, "", "", ""]),
    st.sampled_from(["rent", "A" * 21, "_X", "-X", "RENT ", "RÉNT", "R\x00"]),
)
references = st.sampled_from(["", "", "CHK 7", "x" * 200, "x" * 201, "a\tb", "a\x7fb", "a\x9fb"])
memos = st.sampled_from(["", "", "a memo", "two\nlines", "a\ttab", "a\rb", "a\x0bb", "a\x00b"])


def column_values(name, today, own_id):
    """What a cell of the column `name` may hold; for a reference between rows, sometimes the
    row's own id."""
    return {
        "txn_id": ids,
        "account_id": ids,
        "posted": date_texts(today),
        "type": types,
        "amount": amounts,
        "code": codes,
        "due": st.one_of(st.just(""), date_texts(today)),
        "applies_to": st.one_of(st.just(""), st.just(own_id), ids),
        "reverses": st.one_of(st.just(""), st.just(own_id), ids),
        "reference": references,
        "memo": memos,
    }[name]


good_ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}", fullmatch=True)
good_amounts = st.decimals("0.01", "999999999999.99", places=2).map(
    lambda amount: st.sampled_from([str(amount), str(amount.normalize())])
)


@st.composite
def good_cells(draw, today):
    """The cells of a good transaction row of any type, dated up to the book's horizon."""
    kind = draw(st.sampled_from(["charge", "payment", "credit", "reversal", "refund"]))
    cells = {
        "txn_id": draw(good_ids),
        "account_id": draw(good_ids),
        "posted": draw(st.dates(EARLIEST, latest_date(today))).isoformat(),
        "type": kind,
        "amount": draw(draw(good_amounts)),
        "code": draw(st.sampled_from(["RENT", "LATE", "NSF-1"] + ["", ""] * (kind != "charge"))),
        "reference": draw(st.sampled_from(["", "CHK 7", "x" * 200])),
        "memo": draw(st.sampled_from(["", "a memo", "two\nlines\tand a tab"])),
    }
    if kind == "charge":
        due = draw(st.one_of(st.none(), st.dates(EARLIEST, latest_date(today))))
        cells["due"] = due.isoformat() if due else ""
    elif kind == "reversal":
        cells["reverses"] = draw(good_ids)
    elif kind == "refund":
        pass  # a refund names no other row
    else:
        cells["applies_to"] = draw(st.one_of(st.just(""), good_ids))
    return cells


@st.composite
def files(draw):
    """(today, header, record): a transactions header with the required columns and any of the
    optional ones in any order, and one record of it: a good row, most often with a few of its
    cells spoilt (a bad value, a NUL byte or a control character added, any text)."""
    today = draw(st.sampled_from(TODAYS))
    optional = draw(st.lists(st.sampled_from(TRANSACTIONS.optional), unique=True))
    header = draw(st.permutations([*TRANSACTIONS.required, *optional]))
    cells = draw(good_cells(today))
    record = [cells.get(name, "") for name in header]
    for i in draw(st.sets(st.integers(0, len(header) - 1), max_size=3)):
        record[i] = draw(column_values(header[i], today, cells["txn_id"]))
        if draw(st.integers(0, 3)) == 0:
            record[i] = draw(st.one_of(any_text, nasty.map(lambda c, v=record[i]: v + c)))
    return today, header, record


def complete(today, header, record):
    try:
        return check_row("transactions", dict(zip(header, record, strict=True)), today)
    except RowError as error:
        return error


def answer(result):
    """What a parser said, comparably: the row's values (the amount as written, so 10.0 and
    10.00 differ) or the column and the reason of its refusal."""
    if isinstance(result, RowError):
        return ("refused", result.column, result.reason)
    assert isinstance(result, TxnRow)
    return ("taken", *result._replace(amount=str(result.amount)))


def one_row_file(header, record):
    def rows(progress):
        yield 1, list(header)
        yield 2, list(record)

    return SourceFile(TRANSACTIONS, "transactions.csv", 0, rows)


def problems(source, today):
    """The answer of `read_rows` as the import reports it: a Problem, or the row taken."""
    (line, result), *more = read_rows(source, today=today)
    assert not more
    if isinstance(result, RowError):
        return Problem(source.label, line, result.column, result.reason)
    return (line, answer(result))


@settings(max_examples=2000, deadline=None)
@given(case=files())
def test_the_fast_parser_takes_only_what_the_complete_one_takes_to_the_same_value(case):
    # given a transaction row, good or not
    today, header, record = case
    fast = fast_transaction_parser(header, latest_date(today))
    # when both parsers read it, and the reader that tries the fast one first
    by_fast, by_complete = fast(list(record)), complete(today, header, record)
    read = problems(one_row_file(header, record), today)
    # then the fast one declines it or says what the complete one says
    event("the fast parser took it" if by_fast else "the fast parser declined it")
    event("the complete parser took it" if isinstance(by_complete, TxnRow) else "refused")
    if by_fast is not None:
        assert answer(by_fast) == answer(by_complete)
    # and the import names the same file, line, column and reason, or takes the same row
    if isinstance(by_complete, RowError):
        assert read == Problem("transactions.csv", 2, by_complete.column, by_complete.reason)
    else:
        assert read == (2, answer(by_complete))


GOOD_ROWS = [
    {"txn_id": "c9", "type": "charge", "code": "RENT", "due": "2026-11-05"},
    {"txn_id": "c9", "type": "charge", "code": "LATE", "reference": "x" * 200},
    {"txn_id": "p9", "type": "payment", "applies_to": "c1", "memo": "two\nlines\tand a tab"},
    {"txn_id": "p9", "type": "credit", "code": "ADJ"},
    {"txn_id": "r9", "type": "reversal", "reverses": "p1"},
]


@settings(max_examples=300, deadline=None)
@given(
    good=st.sampled_from(GOOD_ROWS),
    posted=st.dates(date(2025, 11, 1), date(2027, 11, 1)),
    amount=st.decimals("0.01", "999999999999.99", places=2),
    optional=st.lists(st.sampled_from(TRANSACTIONS.optional), unique=True),
)
def test_the_fast_parser_takes_every_clean_row(good, posted, amount, optional):
    # given a clean row, under a header with at least the columns it fills
    today = date(2026, 11, 1)
    cells = {"account_id": "alice-1A", "posted": posted.isoformat(), "amount": str(amount), **good}
    header = [*TRANSACTIONS.required, *sorted({*optional, *cells} - {*TRANSACTIONS.required})]
    record = [cells.get(name, "") for name in header]
    # when the fast parser reads it
    taken = fast_transaction_parser(header, latest_date(today))(record)
    # then it takes it, as the complete one does
    assert taken is not None
    assert answer(taken) == answer(complete(today, header, record))
