from arrears.access.tests.desk import desk  # noqa: F401
from arrears.access.tests.people import (  # noqa: F401
    archive_dir,
    book,
    fast_passwords,
    fresh_cache,
    people,
    tokens,
)
