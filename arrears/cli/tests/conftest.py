from arrears.access.tests.people import (  # noqa: F401
    archive_dir,
    book,
    fast_passwords,
    fresh_cache,
    people,
)
