"""Disputes: a party says the balance, or some charges, are wrong.

Invariants held by the database:
- a dispute names what it holds: its charges, each with the amount disputed (the charge's open
  amount when it was opened); a dispute on the whole balance names every charge then open;
- a dispute is resolved once, with its outcome and date; the credit it posted is a new credit
  transaction in the book (`DSP-<dispute>-<charge>`), never an edit of the charge;
- what is held is derived from the open disputes on each daily run, not a flag.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from arrears.core.fields import MoneyField
from arrears.ledger.models import Account, Party, Transaction

CHANNELS = ("phone", "email", "letter", "in_person", "portal", "attorney")


class Dispute(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("open")
        RESOLVED = "resolved", _("resolved")

    class Outcome(models.TextChoices):
        UPHELD = "upheld", _("upheld")
        PARTIAL = "partial", _("partly upheld")
        REJECTED = "rejected", _("rejected")

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="disputes")
    party = models.ForeignKey(
        Party, null=True, blank=True, on_delete=models.PROTECT, related_name="disputes"
    )
    whole_balance = models.BooleanField()
    amount = MoneyField()  # what is held: the disputed charges' open amounts when opened
    reason = models.TextField()
    channel = models.CharField(max_length=20, default="letter")
    documents = models.JSONField(default=list, blank=True)  # names or paths of what came with it
    opened_on = models.DateField()
    opened_by = models.CharField(max_length=100)
    opened_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    resolved_on = models.DateField(null=True, blank=True)
    resolved_by = models.CharField(max_length=100, blank=True)
    note = models.TextField(blank=True)
    credited = MoneyField(default=0)
    letter = models.CharField(max_length=100, blank=True)  # the template correspondence sends

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="dispute_amount_positive"),
            models.CheckConstraint(
                condition=Q(status="open", outcome="", resolved_on__isnull=True)
                | Q(status="resolved", resolved_on__isnull=False) & ~Q(outcome=""),
                name="dispute_resolution_complete",
            ),
            models.CheckConstraint(
                condition=Q(credited__gte=0) & Q(credited__lte=models.F("amount")),
                name="dispute_credit_within_amount",
            ),
        ]
        indexes = [models.Index(fields=["status", "account"], name="dispute_status_account")]

    def __str__(self) -> str:
        return f"dispute {self.pk} of {self.amount} ({self.status})"

    def can_resolve(self) -> bool:
        return self.status == self.Status.OPEN


class DisputedCharge(models.Model):
    dispute = models.ForeignKey(Dispute, on_delete=models.PROTECT, related_name="charges")
    charge = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="+")
    amount = MoneyField()
    credited = MoneyField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dispute", "charge"], name="disputed_charge_once"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="disputed_amount_positive"),
            models.CheckConstraint(
                condition=Q(credited__gte=0) & Q(credited__lte=models.F("amount")),
                name="disputed_credit_within_amount",
            ),
        ]
