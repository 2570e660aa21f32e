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
