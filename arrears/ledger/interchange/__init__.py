"""The ledger interchange format, version 1 (docs/ledger-interchange.md): files, columns, rows.

Pure: reading a book folder, `.zip` or `.xlsx` into rows, and checking each row on its own. What
needs the rest of the book (unknown accounts, references between transactions, duplicates) is
checked by the importer, which names the same file, line and column.

`formats` (file kinds and columns) · `places` (states, countries, zones) · `errors` · `sources`
(files to records) · `fields` (one value) · `rows` (one row, the complete path) · `fast` (a clean
transaction row) · `reader` (a file to parsed rows). The names callers use are imported here.
"""

from arrears.ledger.interchange.errors import MAX_ERRORS, BookImportError, Problem, RowError
from arrears.ledger.interchange.fields import latest_date
from arrears.ledger.interchange.formats import (
    EXPORT_COLUMNS,
    FILE_KINDS,
    ORIGINAL_POSTED,
    TRANSACTIONS,
    FileKind,
)
from arrears.ledger.interchange.places import COUNTRIES, STATE_TIME_ZONES
from arrears.ledger.interchange.reader import check_header, header_read, read_rows, records_parsed
from arrears.ledger.interchange.rows import PARSERS, TxnRow, check_row
from arrears.ledger.interchange.sources import SourceFile, open_book

__all__ = [
    "COUNTRIES",
    "EXPORT_COLUMNS",
    "FILE_KINDS",
    "MAX_ERRORS",
    "ORIGINAL_POSTED",
    "PARSERS",
    "STATE_TIME_ZONES",
    "TRANSACTIONS",
    "BookImportError",
    "FileKind",
    "Problem",
    "RowError",
    "SourceFile",
    "TxnRow",
    "check_header",
    "check_row",
    "header_read",
    "latest_date",
    "open_book",
    "read_rows",
    "records_parsed",
]
