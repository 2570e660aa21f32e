"""A book made before referrals moved to the legal part keeps its referrals when it migrates."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import IntegrityError, transaction

BEFORE = ("access", "0004_audit_log_indexes")
AFTER = [("access", "0005_referral_to_legal"), ("legal", "0001_initial")]


def test_a_referral_made_in_access_is_in_legal_after_the_move(migrator):
    # given a book at access's last migration with referrals, one open and one withdrawn
    old = migrator.apply_initial_migration(BEFORE)
    property_ = old.apps.get_model("ledger", "Property").objects.create(
        property_id="ELM", name="12 Elm Court", state="NY", country="US"
    )
    oscar = old.apps.get_model("ledger", "Account").objects.create(
        account_id="A-OSCAR",
        property=property_,
        kind="residential_lease",
        opened_on=date(2025, 1, 1),
    )
    referrals = old.apps.get_model("access", "Referral").objects
    referrals.create(
        account=oscar, firm="Hale & Co", referred_on=date(2026, 3, 1), referred_by="alice"
    )
    referrals.create(
        account=oscar,
        firm="Vance LLP",
        referred_on=date(2026, 1, 5),
        referred_by="alice",
        note="withdrawn: paid in full",
        withdrawn_on=date(2026, 2, 1),
    )

    # when it migrates forward
    new = migrator.apply_tested_migration(AFTER)

    # then the referrals are legal's, as they were, and an account is still referred once a firm
    moved = new.apps.get_model("legal", "Referral").objects
    assert sorted(
        moved.values_list("account__account_id", "firm", "referred_on", "note", "withdrawn_on")
    ) == [
        ("A-OSCAR", "Hale & Co", date(2026, 3, 1), "", None),
        ("A-OSCAR", "Vance LLP", date(2026, 1, 5), "withdrawn: paid in full", date(2026, 2, 1)),
    ]
    assert ("access", "referral") not in new.models
    with pytest.raises(IntegrityError), transaction.atomic():
        moved.create(
            account_id=oscar.pk, firm="Hale & Co", referred_on=date(2026, 4, 1), referred_by="bob"
        )
