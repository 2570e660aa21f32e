"""The pages' tests run signed in as a coordinator unless they say otherwise."""

from typing import Any

import pytest
from django.test import Client

from arrears.access.services import user_add
from arrears.access.tests.people import (  # noqa: F401
    book,
    fast_passwords,
    fresh_cache,
    people,
    tokens,
)


@pytest.fixture
def client(db: Any, fast_passwords: None) -> Client:  # noqa: F811
    user = user_add(username="coordinator", password="a-long-enough-password",
                    role="coordinator")  # fmt: skip
    signed = Client()
    signed.force_login(user)
    return signed
