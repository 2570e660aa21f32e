from arrears.access.tests.people import book, fast_passwords, people, tokens  # noqa: F401
