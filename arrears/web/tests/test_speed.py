"""What the pages do to be fast must not change what they show: the day's page is kept rendered
per state of the book, yet any change shows at once, each session gets its own CSRF token, and
a manager's day is not a coordinator's; search's indexes (PostgreSQL) serve its queries."""

from __future__ import annotations

import importlib
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from arrears.access.selectors import account_search
from arrears.access.tests.people import TODAY
from arrears.dunning.services import hold_place
from arrears.ledger.models import Account, Party
from arrears.web.pagecache import CSRF_PLACEHOLDER

pytestmark = pytest.mark.django_db

EXPIRING = re.compile(r"<strong>(\d+)</strong> holds expiring")


def as_(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def _expiring(client: Client) -> int:
    response = client.get("/today/")
    assert response.status_code == 200
    found = EXPIRING.search(response.content.decode())
    assert found, "the day's page shows the holds expiring"
    return int(found.group(1))


def test_the_day_is_rendered_once_per_state_and_a_change_shows_at_once(people):
    alice = as_(people["alice"])
    assert _expiring(alice) == 0
    with CaptureQueriesContext(connection) as again:
        assert _expiring(alice) == 0
    day_queries = [q for q in again.captured_queries if "dunning_action" in q["sql"]]
    assert day_queries == [], "the second request is served from the rendered page"
    hold_place(
        account_id="A-TINA",
        reason="manual",
        on=TODAY,
        actor="alice",
        until=TODAY + timedelta(days=3),
    )
    assert _expiring(alice) == 1
    # through the page, as a person would: the hold's release is a change too
    hold = alice.get("/accounts/A-TINA/").content.decode()
    release = re.search(r'action="(/accounts/A-TINA/holds/\d+/release/)"', hold)
    assert release
    assert alice.post(release.group(1)).status_code in (200, 302)
    assert _expiring(alice) == 0


def test_each_session_gets_its_own_csrf_token_in_a_kept_page(people):
    first = as_(people["alice"], enforce_csrf_checks=True)
    second = as_(people["alice"], enforce_csrf_checks=True)
    first.get("/today/")
    html = second.get("/today/").content.decode()  # the page rendered for the first session
    assert CSRF_PLACEHOLDER not in html
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    response = second.post("/signout/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302, "the token in the kept page is the second session's"
    assert second.get("/today/").status_code == 302  # signed out


def test_a_managers_day_is_not_a_coordinators(people):
    hold_place(
        account_id="A-OSCAR",
        reason="manual",
        on=TODAY,
        actor="alice",
        until=TODAY + timedelta(days=2),
    )
    assert _expiring(as_(people["alice"])) == 1
    # bob manages ELM only; mallory another property: neither sees Oscar's hold
    bob = as_(people["bob"])
    assert Account.objects.get(account_id="A-OSCAR").property.property_id != "ELM"
    assert _expiring(bob) == 0
    assert _expiring(as_(people["mallory"])) == 0


def test_search_still_finds_by_each_field_after_its_indexes(people):
    alice = people["alice"]
    party = Party.objects.get(party_id="P-TINA")
    digits = "".join(c for c in party.phone if c.isdigit())
    for q in ("ortiz", "ORTIZ", "3b", "a-tina", "A-TI", party.email.upper(), digits[-7:]):
        assert "A-TINA" in [h.account_id for h in account_search(alice, q=q)], q
    assert account_search(alice, q="no such person anywhere") == []


def test_search_queries_can_use_their_indexes_on_postgresql(people):
    """On PostgreSQL, with other scans priced out, each search query's plan names its index: the
    index's expression is the one Django writes (a mismatch would leave a sequential scan).
    SQLite gets none of them (the migration makes nothing there) and scans its tables."""
    from arrears.access.selectors import accounts_visible
    from arrears.ledger.models import OpenItem, Transaction
    from arrears.ledger.search import Fold

    migration = importlib.import_module("arrears.ledger.migrations.0005_search_indexes")
    folds = importlib.import_module("arrears.ledger.migrations.0008_search_fold")
    names = [name for name, _table, _spec in migration.INDEXES if name != folds.OLD_INDEX]
    names.append(folds.FOLD_INDEX)
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
            assert not set(names) & {row[0] for row in cursor.fetchall()}
        return
    alice = people["alice"]
    visible = accounts_visible(alice)
    queries = {
        "ledger_account_id_upper": visible.filter(account_id__iexact="a-tina"),
        "ledger_account_unit_upper": visible.filter(unit__iexact="3b"),
        folds.FOLD_INDEX: Party.objects.annotate(folded=Fold("name")).filter(
            folded__contains="ortiz"
        ),
        "ledger_party_phone_trgm": Party.objects.filter(phone__contains="5550101"),
        "ledger_party_email_upper": Party.objects.filter(email__iexact="G@X.ORG"),
        "ledger_txn_amount_posted": Transaction.objects.filter(
            amount="1200.00", posted_on__gte=TODAY - timedelta(days=183)
        ),
        "ledger_account_rent": visible.filter(rent="1200.00"),
        "ledger_openitem_amount": OpenItem.objects.filter(amount="1200.00"),
    }
    assert sorted(queries) == sorted(names)
    with connection.cursor() as cursor:
        # only bitmap scans left: each needs an index whose expression is the query's
        for kind in ("seqscan", "indexscan", "indexonlyscan"):
            cursor.execute(f"SET LOCAL enable_{kind} = off")
        for index, qs in queries.items():
            assert index in qs.explain(), index
        # an exact phone number (search's first rank) is served by the phone's trigram index too
        assert "ledger_party_phone_trgm" in Party.objects.filter(phone="+12125550101").explain()
