"""Whatever a row holds, an import answers with a named refusal or takes it: never a traceback.

Hypothesis writes one transaction row of random fields (any text, control characters and NUL
bytes among them, any date from year 1 to year 9999, raw bytes that may not be UTF-8) after a
good one, into alice's and bob's book (test_import_errors.ELM_COURT), with and without an `x_`
column (the fast and the complete path), and imports it on the test's database. Each example is
rolled back, so the next starts from the same book (issue 13, item 7).
"""

import tempfile
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrears.ledger.interchange import EXPORT_COLUMNS, BookImportError
from arrears.ledger.models import Transaction
from arrears.ledger.services import book_import
from arrears.ledger.tests.elm_court import ELM_COURT, write_book
from arrears.ledger.tests.test_book_properties import fresh_book

pytestmark = pytest.mark.django_db

COLUMNS = EXPORT_COLUMNS["transactions"]
GOOD = "c1,alice-1A,2026-03-05,charge,75.00,LATE,2026-03-05,,,,"


def quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


any_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
any_date = st.dates(date(1, 1, 1), date(9999, 12, 31)).map(date.isoformat)
# Good rows of each type, in COLUMNS order, that the book takes after GOOD.
GOOD_ROWS = [
    ("x1", "alice-1A", "2026-03-06", "payment", "10.00", "", "", "", "", "CHK 7", "a memo"),
    ("x1", "alice-1A", "2026-03-06", "payment", "10.00", "", "", "t7", "", "", ""),
    ("x1", "bob-2B", "2026-03-06", "charge", "25.00", "NSF", "2026-03-10", "", "", "", ""),
    ("x1", "bob-2B", "2026-03-06", "reversal", "1000.00", "", "", "", "b4", "", ""),
    ("x1", "alice-1A", "2026-03-06", "credit", "5.00", "ADJ", "", "c1", "", "", ""),
]
DATES = {"posted", "due"}


@st.composite
def rows(draw):
    """A good row with one to three of its fields replaced by any text, or (for a date) any date
    from year 1 to 9999; sometimes with raw bytes put in anywhere."""
    fields = list(draw(st.sampled_from(GOOD_ROWS)))
    for i in draw(st.sets(st.integers(0, len(COLUMNS) - 1), min_size=1, max_size=3)):
        dated = COLUMNS[i] in DATES and draw(st.booleans())
        fields[i] = draw(any_date if dated else any_text)
    line = ",".join(quoted(f) for f in fields).encode("utf-8")
    if draw(st.integers(0, 4)) == 0:
        at = draw(st.integers(0, len(line)))
        line = line[:at] + draw(st.binary(min_size=1, max_size=4)) + line[at:]
    return line


@pytest.fixture
def elm_court(tmp_path):
    book_import(write_book(tmp_path / "elm_court", ELM_COURT))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(row=rows(), custom=st.booleans())
def test_any_row_is_taken_or_refused_by_name_never_a_crash(elm_court, row, custom):
    header = ",".join(COLUMNS) + (",x_note" if custom else "")
    good = GOOD + (",ok" if custom else "")
    content = (header + "\n" + good + "\n").encode() + row + (b',"n"' if custom else b"") + b"\n"
    before = Transaction.objects.count()
    last = Transaction.objects.order_by("-id").values_list("id", flat=True).first()
    with fresh_book(), tempfile.TemporaryDirectory() as folder:
        # given
        book = write_book(Path(folder), {"transactions.csv": content})
        # when
        try:
            created, problems = book_import(book).created["transactions"], []
        except BookImportError as refused:
            created, problems = 0, refused.problems
        # then: refused, each problem naming the file and a line, and nothing written
        for problem in problems:
            assert problem.file == "transactions.csv"
            assert problem.line >= 1
            assert "\x00" not in problem.column + problem.reason
        if problems:
            assert Transaction.objects.count() == before
        else:
            # or taken: a good row, in the book, dated within the book's calendar
            assert created >= 1
            for stored in Transaction.objects.filter(id__gt=last):
                assert date(1900, 1, 1) <= stored.posted_on <= date(2200, 12, 31)
