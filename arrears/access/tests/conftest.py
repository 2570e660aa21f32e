from arrears.access.tests.people import (  # noqa: F401
    book,
    fast_passwords,
    fresh_cache,
    people,
    tokens,
)
