"""The ledger tests' shared fixture: the small book the bad-input tests start from."""

import pytest

from arrears.ledger.tests.elm_court import elm_court_imported


@pytest.fixture
def elm_court(tmp_path):
    """alice's and bob's book, imported; returns its state before anything else happens."""
    return elm_court_imported(tmp_path)
