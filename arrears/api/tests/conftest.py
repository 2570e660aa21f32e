from arrears.access.tests.people import (  # noqa: F401
    book,
    fast_passwords,
    fresh_cache,
    people,
    tokens,
)
from arrears.web.tests.conftest import archive_dir  # noqa: F401  (each test its own archive)
