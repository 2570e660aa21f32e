"""Bank files and their lines, and the accounts flagged "cash only".

Invariants (held by the database): a file's bytes are imported once (`sha256` unique); a line
is known by its bank account and the bank's reference (unique together), so a line seen again,
in this file or another, adds nothing; amounts are more than 0. A line's status only moves
forward: `review` → `assigned` | `split` | `not_ours`; `auto` and `returned` are set when the
line is imported. The payments a line posted are the book's entries `txn_ids` names.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from arrears.core.fields import MoneyField
from arrears.ledger.models import Account


class BankFile(models.Model):
    name = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64, unique=True)
    file_format = models.CharField(max_length=10)
    imported_at = models.DateTimeField(auto_now_add=True)
    imported_by = models.CharField(max_length=150, blank=True)
    counts = models.JSONField(default=dict)


class BankLine(models.Model):
    class Kind(models.TextChoices):
        CREDIT = "credit", _("credit")
        RETURN = "return", _("return")

    class Status(models.TextChoices):
        AUTO = "auto", _("posted automatically")
        REVIEW = "review", _("to review")
        ASSIGNED = "assigned", _("assigned")
        SPLIT = "split", _("split")
        NOT_OURS = "not_ours", _("not ours")
        RETURNED = "returned", _("return posted")

    file = models.ForeignKey(BankFile, on_delete=models.PROTECT, related_name="lines")
    bank_account = models.CharField(max_length=64)
    reference = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    posted_on = models.DateField()
    amount = MoneyField()
    currency = models.CharField(max_length=3, blank=True)
    payer_name = models.CharField(max_length=200, blank=True)
    payer_account = models.CharField(max_length=64, blank=True)
    text = models.CharField(max_length=1000, blank=True)
    original_reference = models.CharField(max_length=120, blank=True)
    end_to_end = models.CharField(max_length=120, blank=True)
    return_code = models.CharField(max_length=10, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.PROTECT, related_name="bank_lines"
    )
    rule = models.CharField(max_length=40, blank=True)  # the matching rule that named the account
    confidence = models.DecimalField(max_digits=4, decimal_places=3, null=True, blank=True)
    txn_ids = models.JSONField(default=list, blank=True)  # the book's entries it posted
    decided_by = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["bank_account", "reference"], name="bank_line_reference_unique"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="bank_line_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["status"], name="bank_line_status"),
            models.Index(fields=["payer_account"], name="bank_line_payer_account"),
            models.Index(fields=["end_to_end"], name="bank_line_end_to_end"),
        ]


class CashOnly(models.Model):
    """An account that pays in certified funds only, after too many payments came back
    (`banking.returns`); shown on the account page and to letters. Ended by a date, not
    deleted."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="cash_only")
    since = models.DateField()
    until = models.DateField(null=True, blank=True)
    returns = models.PositiveIntegerField()  # the returns in the 12 months that set it
