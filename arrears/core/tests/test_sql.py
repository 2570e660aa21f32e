"""The hand-written reads (core.sql) give what the ORM gives, on SQLite and PostgreSQL alike."""

from datetime import date

import pytest

from arrears.core import sql
from arrears.ledger.models import Account, Property, TimelineEvent, Transaction

pytestmark = pytest.mark.django_db


def test_columns_are_the_models_and_a_relation_is_refused():
    assert sql.columns(Transaction, "id", "applies_to").replace('"', "") == "id, applies_to_id"
    with pytest.raises(ValueError, match="not a column"):
        sql.columns(Account, "timeline")
    assert sql.table(TimelineEvent).strip('"') == TimelineEvent._meta.db_table


def test_rows_give_dates_as_dates_and_take_them_as_parameters():
    place = Property.objects.create(property_id="P1", name="One")
    Account.objects.create(account_id="A1", property=place, opened_on=date(2026, 3, 1))
    found = sql.rows(
        f"SELECT {sql.columns(Account, 'account_id', 'opened_on')} FROM {sql.table(Account)}"
        " WHERE opened_on <= %s",
        [sql.day(date(2026, 3, 1))],
    )
    assert found == [("A1", date(2026, 3, 1))]
    assert (
        sql.rows(
            f"SELECT id FROM {sql.table(Account)} WHERE opened_on < %s", [sql.day(date(2026, 3, 1))]
        )
        == []
    )


def _fields(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_a_joined_row_is_the_model_the_orm_reads_with_its_values_converted():
    from decimal import Decimal

    from arrears.ledger.models import AccountParty, Party

    place = Property.objects.create(
        property_id="P1", name="One", state="NY", country="US", extra={"late_fee": {"rate": "5%"}}
    )
    account = Account.objects.create(account_id="A1", property=place, opened_on=date(2026, 3, 1))
    Account.objects.create(account_id="A2", opened_on=date(2026, 3, 1))  # no property
    party = Party.objects.create(party_id="G1", name="Gail", extra={"note": "co-signer"})
    limit = Decimal("1200.50")
    AccountParty.objects.create(
        account=account,
        party=party,
        role="guarantor",
        guarantee_limit=limit,
        extra={"signed": True},
    )
    rows = {
        a.account_id: a
        for a in Account.objects.raw(
            f"SELECT a.*, {sql.joined_columns(Property, 'p', 'p__')} FROM {sql.table(Account)} a"
            f" LEFT JOIN {sql.table(Property)} p ON p.id = a.property_id"
        )
    }
    read = sql.joined(Property, rows["A1"], "p__")
    assert _fields(read) == _fields(Property.objects.get(pk=place.pk))
    assert read.extra == {"late_fee": {"rate": "5%"}}
    assert read._state.adding is False
    assert sql.joined(Property, rows["A2"], "p__") is None
    links = list(
        Party.objects.raw(
            f"SELECT p.*, {sql.joined_columns(AccountParty, 'ap', 'l__')} FROM {sql.table(Party)} p"
            f" JOIN {sql.table(AccountParty)} ap ON ap.party_id = p.id"
        )
    )
    link = sql.joined(AccountParty, links[0], "l__")
    assert _fields(link) == _fields(AccountParty.objects.get())
    assert link.guarantee_limit == limit
    assert link.extra == {"signed": True}


def test_account_party_links_are_the_orms_in_its_order():
    from arrears.ledger.models import AccountParty, Party
    from arrears.ledger.selectors import account_party_links

    account = Account.objects.create(account_id="A1", opened_on=date(2026, 3, 1))
    for party_id, name, role in [
        ("T2", "Zoe", "primary"),
        ("G1", "Al", "guarantor"),
        ("T1", "Bea", "primary"),
        ("C1", "Cy", "co_obligor"),
    ]:
        party = Party.objects.create(party_id=party_id, name=name)
        AccountParty.objects.create(account=account, party=party, role=role)
    orm = list(account.account_parties.select_related("party").order_by("role", "party__name"))
    mine = account_party_links(account)
    assert [(_fields(link), _fields(link.party)) for link in mine] == [
        (_fields(link), _fields(link.party)) for link in orm
    ]
    assert [link.party.name for link in mine] == ["Cy", "Al", "Bea", "Zoe"]
