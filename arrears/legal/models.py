"""Referrals of accounts to attorneys and agencies.

Invariants:
- an account has at most one open (not withdrawn) referral per firm;
- a referral is never deleted: it is withdrawn (`withdrawn_on`), and its account is protected.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from arrears.ledger.models import Account


class Referral(models.Model):
    """An account referred to a law firm; the firm's attorneys see it until it is withdrawn."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="referrals")
    firm = models.CharField(max_length=100)
    referred_on = models.DateField()
    referred_by = models.CharField(max_length=150)
    note = models.CharField(max_length=500, blank=True)
    withdrawn_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "firm"],
                condition=Q(withdrawn_on__isnull=True),
                name="referral_open_once_per_firm",
            ),
        ]
        indexes = [models.Index(fields=["firm", "account"], name="referral_firm_account")]
