"""Move-outs and deposit dispositions (see arrears.moveout.services for how they are made).

Invariants:
- an account has at most one move-out (the day its tenants vacated, and where to write to them
  after: the forwarding address);
- a disposition is a version: an account's versions count 1, 2, … and at most one of them is in
  force (`superseded_by` empty); a correction supersedes the one in force with its reason, and
  both are kept, with the ledger entries each posted (the book stays insert-only);
- a disposition's figures are those it posted: `applied` (the deposit and its interest credited,
  code DEP) = `deposit_held` + `interest`; `refund_due` and `balance_owed` are the account's
  credit or debit balance right after, one of them zero.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from arrears.core.fields import MoneyField


class MoveOut(models.Model):
    """The day an account's tenants vacated, and the forwarding address they left."""

    account = models.OneToOneField(
        "ledger.Account", on_delete=models.PROTECT, related_name="move_out"
    )
    vacated_on = models.DateField()
    forwarding_address = models.TextField(blank=True)
    # The party whose mailing address the forwarding address became (the primary, by default).
    party = models.ForeignKey(
        "ledger.Party", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_by = models.CharField(max_length=150)
    recorded_at = models.DateTimeField()


class Disposition(models.Model):
    """One version of what became of an account's security deposit."""

    account = models.ForeignKey(
        "ledger.Account", on_delete=models.PROTECT, related_name="dispositions"
    )
    version = models.PositiveIntegerField()
    posted_on = models.DateField()
    deposit_held = MoneyField()
    interest = MoneyField(default=0)
    applied = MoneyField()
    refund_due = MoneyField()
    balance_owed = MoneyField()
    jurisdiction = models.CharField(max_length=20, blank=True)
    statement_due = models.DateField()
    # Why a statement after its deadline was let through ("" when in time).
    late_reason = models.TextField(blank=True)
    # Why this version corrects the one before ("" for the first).
    correction_reason = models.TextField(blank=True)
    superseded_by = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="supersedes"
    )
    made_by = models.CharField(max_length=150)
    made_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "version"], name="disposition_version_unique"
            ),
            models.CheckConstraint(
                condition=Q(refund_due=0) | Q(balance_owed=0),
                name="disposition_refund_or_balance",
            ),
            models.CheckConstraint(
                condition=Q(deposit_held__gte=0) & Q(interest__gte=0),
                name="disposition_amounts_not_negative",
            ),
        ]


class Deduction(models.Model):
    """One amount kept from the deposit, by code (arrears.moveout.services.DEDUCTIONS)."""

    disposition = models.ForeignKey(
        Disposition, on_delete=models.PROTECT, related_name="deductions"
    )
    line = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=20)
    amount = MoneyField()
    text = models.CharField(max_length=300)
    # The receipt, invoice or photo archived with it (arrears.correspondence's archive).
    document = models.ForeignKey(
        "correspondence.Document", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["disposition", "line"]
        constraints = [
            models.UniqueConstraint(fields=["disposition", "line"], name="deduction_line_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="deduction_amount_positive"),
        ]


class Refund(models.Model):
    """A credit balance to pay back (arrears.moveout.refunds): proposed when the credit is found,
    approved (its `refund` entry posted) or rejected by a controller, exported once to the
    payables file.

    Invariants: at most one proposal of an account at a time; an approved or exported refund
    names the entry it posted (txn_id `RF-<id>`: posted once); an exported one names its batch.
    """

    class Status(models.TextChoices):
        PROPOSED = "proposed"
        APPROVED = "approved"
        REJECTED = "rejected"
        EXPORTED = "exported"

    account = models.ForeignKey("ledger.Account", on_delete=models.PROTECT, related_name="refunds")
    amount = MoneyField()
    currency = models.CharField(max_length=3, default="USD")
    # Where the credit came from: "deposit" (a disposition's DEP credit), "credit" (another
    # credit: a dispute upheld, a fee waived) or "overpayment".
    origin = models.CharField(max_length=20)
    arose_on = models.DateField()  # the day the account's credit balance arose
    due_on = models.DateField()  # the day it is to be refunded by
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    proposed_at = models.DateTimeField()
    decided_by = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_on = models.DateField(null=True, blank=True)  # the book's day of the decision
    reason = models.TextField(blank=True)
    transaction = models.OneToOneField(
        "ledger.Transaction",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    exported_batch = models.CharField(max_length=40, blank=True)
    exported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(
                condition=Q(status__in=["proposed", "approved", "rejected", "exported"]),
                name="refund_status_known",
            ),
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(status="proposed"),
                name="refund_one_proposal_per_account",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["approved", "exported"]) | Q(transaction__isnull=False),
                name="refund_approved_posts_its_entry",
            ),
            models.CheckConstraint(
                condition=~Q(status="exported") | ~Q(exported_batch=""),
                name="refund_exported_names_its_batch",
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(reason=""), name="refund_rejection_says_why"
            ),
        ]

    @property
    def refund_id(self) -> str:
        return f"RF-{self.pk}"
