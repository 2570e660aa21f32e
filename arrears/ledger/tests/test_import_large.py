"""A book of any size imports: queries that take a list of ids take it as one parameter once the
list is long (arrears/core/lookups.py), on PostgreSQL (65,535 bound parameters at most) and on
SQLite (32,766 variables) alike (issue 13, item 9)."""

from __future__ import annotations

from datetime import date

import pytest

from arrears.ledger.models import Account, AccountParty, Party
from arrears.ledger.services import book_import

pytestmark = pytest.mark.django_db(transaction=True)

PARTIES = 70_000


def _write(folder, name, header, rows):
    with (folder / name).open("w", encoding="utf-8") as out:
        out.write(header + "\n")
        out.writelines(row + "\n" for row in rows)


def test_seventy_thousand_parties_import_and_import_again(tmp_path):
    # given: 70,000 tenants
    _write(
        tmp_path,
        "parties.csv",
        "party_id,name,kind",
        (f"T{n},Tenant {n},person" for n in range(PARTIES)),
    )

    # when: imported, then imported again (every id is then looked up among those in the book)
    first = book_import(tmp_path)
    second = book_import(tmp_path)

    # then
    assert first.created["parties"] == PARTIES
    assert second.unchanged["parties"] == PARTIES
    assert second.created.get("parties", 0) == 0
    assert Party.objects.count() == PARTIES


def test_a_long_list_of_ids_finds_what_a_short_one_would(tmp_path):
    # given: 12,000 parties, 6,000 of them tenants of an account
    Party.objects.bulk_create(Party(party_id=f"T{n}", name=f"T {n}") for n in range(12_000))
    account = Account.objects.create(
        account_id="A1", kind="residential_lease", opened_on=date(2026, 1, 1)
    )
    parties = list(Party.objects.order_by("pk"))
    AccountParty.objects.bulk_create(
        AccountParty(account=account, party=p, role="co_obligor") for p in parties[::2]
    )
    # when / then: by value, by primary key, by foreign key and by model instance
    wanted = [f"T{n}" for n in range(0, 12_000, 2)]
    assert Party.objects.filter(party_id__in=[*wanted, None, "nobody"]).count() == 6_000
    assert Party.objects.filter(pk__in=[p.pk for p in parties[:7_000]]).count() == 7_000
    links = AccountParty.objects.filter(party_id__in=[p.pk for p in parties])
    assert links.count() == 6_000
    assert AccountParty.objects.filter(party__in=parties[:10_000]).count() == 5_000
