"""Property-management exports mapped onto the interchange format (docs/ledger-interchange.md,
"Property-management exports"): a mapping file (TOML) says which columns of a source CSV fill
which interchange files and columns, and how its values become interchange values.

Pure: a mapping and a source file in, the interchange files out as `SourceFile`s whose rows carry
the source's own line numbers, for the one import service (`importing.book_import`) to read as it
reads any book. Nothing here writes.

Invariants: every problem names the file (the source, or the mapping file), the line, the column
(the source's, or the mapping's key) and the reason, and any problem refuses the whole file; a
translation is deterministic (the same file gives the same rows, so importing it again changes
nothing); every generated row keeps the source's ids in the `x_` columns the mapping names.

`spec` (the mapping file) · `values` (templates and amounts) · `translate` (an export to the
interchange files) · `mapped` (the result, and what the import settles against the book) ·
`builtin/` (the mappings Arrears ships).
"""

from arrears.ledger.interchange.mapping.mapped import MappedBook
from arrears.ledger.interchange.mapping.spec import Mapping, builtin_names, load_mapping
from arrears.ledger.interchange.mapping.translate import map_book
from arrears.ledger.interchange.mapping.values import parse_amount

__all__ = ["MappedBook", "Mapping", "builtin_names", "load_mapping", "map_book", "parse_amount"]
