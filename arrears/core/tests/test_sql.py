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
    assert sql.rows(f"SELECT id FROM {sql.table(Account)} WHERE opened_on < %s",
                    [sql.day(date(2026, 3, 1))]) == []  # fmt: skip
