"""The pages' tests run signed in as a coordinator unless they say otherwise."""

from typing import Any

import pytest
from django.test import Client

from arrears.access.services import user_add
from arrears.access.tests.desk import desk  # noqa: F401
from arrears.access.tests.people import (  # noqa: F401
    OPERATOR,
    archive_dir,
    book,
    fast_passwords,
    fresh_cache,
    people,
    tokens,
)


@pytest.fixture
def client(db: Any, fast_passwords: None) -> Client:  # noqa: F811
    user = user_add(
        username="coordinator",
        password="a-long-enough-password",
        role="coordinator",
        actor=OPERATOR,
        via="system",
    )
    signed = Client()
    signed.force_login(user)
    return signed


def triage_message(sender: str = "stranger@example.net", subject: str = "About my rent") -> Any:
    """A message from an address no party has, naming no account: it lands in triage."""
    from arrears.correspondence.mail_in import Raw, message_file

    data = (
        f"From: A Stranger <{sender}>\r\nTo: billing@example.com\r\nSubject: {subject}\r\n"
        f"Message-ID: <{subject.replace(' ', '-')}@example.net>\r\n"
        "Date: Thu, 26 Mar 2026 10:00:00 -0400\r\n\r\nI will pay on Friday.\r\n"
    ).encode()
    row, _ = message_file(Raw("INBOX/1", data))
    assert row.status == "triage", row.why_unmatched
    return row
