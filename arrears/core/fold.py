"""The fold that search compares text by: accents dropped, case lowered ("García", "GARCIA" and
"garcia" all fold to "garcia").

Invariant: `fold` is the same function as the database's `arrears_fold(text)` for the names a book
holds (Latin letters with their accents): on PostgreSQL that is `lower(unaccent(x))` (the
`unaccent` extension's rules, made by `ledger.0008_search_fold`), on SQLite this very function,
registered on each connection (`install_sqlite`). A hypothesis test holds the two equal on
PostgreSQL. Letters that carry no separable accent in Unicode (æ, ø, ł, ß …) are spelled out as
`unaccent`'s rules spell them; everything else is decomposed (NFKD) and its marks (category Mn)
dropped.
"""

from __future__ import annotations

import unicodedata
from typing import Any

# unaccent.rules' spelling of the Latin-1 and Latin Extended-A letters NFKD does not decompose.
_LETTERS = str.maketrans(
    {
        "Æ": "AE",
        "æ": "ae",
        "Ð": "D",
        "ð": "d",
        "Ø": "O",
        "ø": "o",
        "Þ": "TH",
        "þ": "th",
        "ß": "ss",
        "Đ": "D",
        "đ": "d",
        "Ħ": "H",
        "ħ": "h",
        "ı": "i",
        "ĸ": "q",
        "Ŀ": "L",
        "ŀ": "l",
        "Ł": "L",
        "ł": "l",
        "ŉ": "'n",
        "Ŋ": "N",
        "ŋ": "n",
        "Œ": "OE",
        "œ": "oe",
        "Ŧ": "T",
        "ŧ": "t",
    }
)

SQL_NAME = "arrears_fold"


def fold(text: str) -> str:
    """`text` without its accents, in lower case: what search compares a name by."""
    if text.isascii():  # most names: nothing to decompose or spell out (5 times faster on SQLite)
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.translate(_LETTERS))
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn").lower()


def _fold_or_null(text: Any) -> Any:
    return None if text is None else fold(str(text))


def install_sqlite(connection: Any) -> None:
    """Register `arrears_fold(text)` on a new SQLite connection: deterministic, so SQLite may use
    it in an index or a view as it would a built-in."""
    connection.create_function(SQL_NAME, 1, _fold_or_null, deterministic=True)
