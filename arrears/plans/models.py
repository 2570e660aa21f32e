"""Promises to pay and payment plans.

Invariants held by the database:
- amounts are positive; a plan's installments sum to its amount (checked by `plan_create` with
  `allocate`, and by a property test);
- a plan is never deleted: renegotiation supersedes it (the new plan names the old one), a
  cancellation or a break keeps it with its reason and date;
- at most one plan of an account is active at a time (a partial unique index);
- a promise is settled (kept or broken) once.

Whether a plan is in good standing, or a promise still open, on a date is derived from the
payments posted (`schedule.track`), so the daily run reads it fresh each day.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from arrears.core.fields import MoneyField
from arrears.ledger.models import Account, Party

CHANNELS = ("phone", "email", "letter", "in_person", "portal", "sms")


class Promise(models.Model):
    class Status(models.TextChoices):
        OPEN = "open"
        KEPT = "kept"
        BROKEN = "broken"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="promises")
    party = models.ForeignKey(
        Party, null=True, blank=True, on_delete=models.PROTECT, related_name="promises"
    )
    amount = MoneyField()
    promised_on = models.DateField()  # pay by this date
    made_on = models.DateField()
    # The account's last transaction id when it was made: payments booked after it count.
    book_position = models.BigIntegerField(default=0)
    channel = models.CharField(max_length=20, default="phone")
    grace_days = models.PositiveIntegerField(default=2)
    made_by = models.CharField(max_length=100)  # the coordinator who took it
    made_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    settled_on = models.DateField(null=True, blank=True)
    paid = MoneyField(null=True, blank=True)  # what payments covered when it was settled

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="promise_amount_positive"),
            models.CheckConstraint(
                condition=Q(promised_on__gte=models.F("made_on")),
                name="promise_date_not_before_made",
            ),
            models.CheckConstraint(
                condition=Q(status="open", settled_on__isnull=True)
                | ~Q(status="open") & Q(settled_on__isnull=False),
                name="promise_settled_has_date",
            ),
        ]
        indexes = [models.Index(fields=["account", "status"], name="promise_account_status")]

    def __str__(self) -> str:
        return f"promise {self.pk} of {self.amount} by {self.promised_on}"


class Plan(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active"
        COMPLETED = "completed"
        BROKEN = "broken"
        CANCELLED = "cancelled"
        SUPERSEDED = "superseded"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="plans")
    party = models.ForeignKey(
        Party, null=True, blank=True, on_delete=models.PROTECT, related_name="plans"
    )
    amount = MoneyField()  # the down payment and the installments
    down_payment = MoneyField(default=0)
    frequency = models.CharField(max_length=10)
    start_on = models.DateField()
    made_on = models.DateField()
    # The account's last transaction id when it was made: the balance it splits holds everything
    # up to it; payments (and, with require_current, charges) booked after it are tracked.
    book_position = models.BigIntegerField(default=0)
    grace_days = models.PositiveIntegerField()
    require_current = models.BooleanField()  # new charges are to be paid on top, when due
    # The charges the plan covers (txn ids); empty: the whole open balance when it was made.
    charges = models.JSONField(default=list, blank=True)
    # What open disputes held of that balance, left out of the plan (15 USC §1692g(b)), and them.
    disputed_excluded = MoneyField(default=0)
    disputes = models.JSONField(default=list, blank=True)
    acceleration_clause = models.TextField(blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    created_by = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    ended_on = models.DateField(null=True, blank=True)
    end_reason = models.CharField(max_length=500, blank=True)
    sent_for_acceptance_at = models.DateTimeField(null=True, blank=True)
    sent_to = models.CharField(max_length=254, blank=True)
    agreement_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="plan_amount_positive"),
            models.CheckConstraint(
                condition=Q(down_payment__gte=0) & Q(down_payment__lt=models.F("amount")),
                name="plan_down_payment_within_amount",
            ),
            models.UniqueConstraint(
                fields=["account"], condition=Q(status="active"), name="plan_one_active"
            ),
            models.CheckConstraint(
                condition=Q(status="active", ended_on__isnull=True)
                | ~Q(status="active") & Q(ended_on__isnull=False),
                name="plan_ended_has_date",
            ),
        ]
        indexes = [models.Index(fields=["status", "account"], name="plan_status_account")]

    def __str__(self) -> str:
        return f"plan {self.pk} of {self.amount} ({self.status})"

    def can_cancel(self) -> bool:
        return self.status == self.Status.ACTIVE


class Installment(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="installments")
    seq = models.PositiveIntegerField()  # 0: the down payment
    due_on = models.DateField()
    amount = MoneyField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "seq"], name="installment_seq_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="installment_amount_positive"),
        ]
        ordering = ["plan", "seq"]
