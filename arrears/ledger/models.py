"""The book: properties, parties, accounts and their parties, transactions, and cash application.

Invariants held by the database:
- a transaction, a timeline event and a period event are never updated or deleted (services only
  insert); on PostgreSQL the database refuses it (a django-pgtrigger trigger, `INSERT_ONLY`);
- a transaction's amount is positive;
- a charge has a code and a due date, nothing else has a due date;
- a payment or credit is reversed at most once;
- `Allocation`, `OpenItemDelta` and `OpenItem` are derived from the transactions of one account by
  `allocation.apply_cash`; they are rebuilt for that account whenever its history changes.
"""

from __future__ import annotations

import pgtrigger
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from arrears.core.fields import MoneyField

# The book's records refuse UPDATE and DELETE, row by row, in PostgreSQL (SQLite: no trigger, the
# services alone). TRUNCATE, which only a test database's flush issues, is not a row's change.
INSERT_ONLY = pgtrigger.Protect(name="insert_only", operation=pgtrigger.Update | pgtrigger.Delete)


class Property(models.Model):
    property_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    address = models.CharField(max_length=300, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=50)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2)
    timezone = models.CharField(max_length=64, blank=True)  # empty: derived from state
    portfolio = models.CharField(max_length=64, blank=True)
    # The landlord of record, named on letters as "Owner: X, by its managing agent <company>"
    # (empty: the company writes in its own name).
    owner_name = models.CharField(max_length=200, blank=True)
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name_plural = "properties"

    def __str__(self) -> str:
        return f"{self.property_id} {self.name}"


class Party(models.Model):
    class Kind(models.TextChoices):
        PERSON = "person"
        ORGANIZATION = "organization"

    party_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.PERSON)
    email = models.CharField(max_length=254, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    address = models.CharField(max_length=300, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=50, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True)
    language = models.CharField(max_length=35, default="en")
    timezone = models.CharField(max_length=64, blank=True)
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name_plural = "parties"

    def __str__(self) -> str:
        return f"{self.party_id} {self.name}"


class Account(models.Model):
    class Kind(models.TextChoices):
        RESIDENTIAL_LEASE = "residential_lease", _("residential lease")
        COMMERCIAL_LEASE = "commercial_lease", _("commercial lease")
        CUSTOMER = "customer", _("customer")
        STUDENT = "student", _("student")
        PATIENT = "patient", _("patient")

    account_id = models.CharField(max_length=64, unique=True)
    property = models.ForeignKey(
        Property, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts"
    )
    unit = models.CharField(max_length=50, blank=True)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    opened_on = models.DateField()
    closed_on = models.DateField(null=True, blank=True)
    rent = MoneyField(null=True, blank=True)
    deposit_held = MoneyField(null=True, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(rent__isnull=True) | Q(rent__gte=0), name="account_rent_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(deposit_held__isnull=True) | Q(deposit_held__gte=0),
                name="account_deposit_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=models.F("opened_on")),
                name="account_closed_after_opened",
            ),
        ]

    def __str__(self) -> str:
        return self.account_id


class AccountParty(models.Model):
    class Role(models.TextChoices):
        PRIMARY = "primary", _("primary")
        CO_OBLIGOR = "co_obligor", _("co-obligor")
        GUARANTOR = "guarantor", _("guarantor")

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="account_parties")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="account_parties")
    role = models.CharField(max_length=20, choices=Role.choices)
    guarantee_limit = MoneyField(null=True, blank=True)
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "party", "role"], name="account_party_role_unique"
            ),
            models.CheckConstraint(
                condition=Q(guarantee_limit__isnull=True) | Q(guarantee_limit__gte=0),
                name="guarantee_limit_not_negative",
            ),
        ]


class Transaction(models.Model):
    """One entry of the book. The primary key is the book's file order: later imports come after."""

    class Type(models.TextChoices):
        CHARGE = "charge", _("charge")
        PAYMENT = "payment", _("payment")
        CREDIT = "credit", _("credit")
        REVERSAL = "reversal", _("reversal")
        REFUND = "refund", _("refund")

    id = models.BigIntegerField(primary_key=True)
    # Unique by a constraint, not unique=True, which on PostgreSQL adds a second (LIKE) index.
    txn_id = models.CharField(max_length=64)
    # Indexed by txn_account_order (account first): no index of its own to maintain on import.
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="transactions", db_index=False
    )
    posted_on = models.DateField(db_index=True)
    type = models.CharField(max_length=10, choices=Type.choices)
    amount = MoneyField()
    code = models.CharField(max_length=20, blank=True)
    due_on = models.DateField(null=True, blank=True)
    # The importer checks that applies_to and reverses name a charge, or a payment or credit of
    # the same amount, of the same account, booked before; a database foreign key would only
    # repeat the check that they exist, at the cost of two trigger calls per imported row.
    applies_to = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    reverses = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="reversed_by",
        db_constraint=False,
    )
    reference = models.CharField(max_length=200, blank=True)
    memo = models.TextField(blank=True)
    extra = models.JSONField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["account", "posted_on", "id"], name="txn_account_order"),
            # The cycle's look-up of fees already charged, per chunk of accounts.
            models.Index(
                fields=["account", "code", "posted_on"],
                name="txn_account_charge_code",
                condition=Q(type="charge"),
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["txn_id"], name="txn_id_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="txn_amount_positive"),
            models.CheckConstraint(
                condition=Q(type="charge", due_on__isnull=False) & ~Q(code="")
                | ~Q(type="charge") & Q(due_on__isnull=True),
                name="txn_only_charges_have_due_and_need_code",
            ),
            models.CheckConstraint(
                condition=Q(reverses__isnull=True) | Q(type="reversal"),
                name="txn_only_reversals_reverse",
            ),
            models.CheckConstraint(
                condition=~Q(type="reversal") | Q(reverses__isnull=False),
                name="txn_reversal_names_its_payment",
            ),
            models.CheckConstraint(
                condition=Q(applies_to__isnull=True) | Q(type__in=["payment", "credit"]),
                name="txn_only_payments_and_credits_apply",
            ),
        ]
        triggers = [INSERT_ONLY]

    def __str__(self) -> str:
        return f"{self.txn_id} {self.type} {self.amount}"


class Allocation(models.Model):
    """`source` (a payment or credit) paid `amount` of `charge` on `made_on`, until `undone_on`.

    This and the two tables below are derived from the transactions by the replay, which is what
    keeps them right; they carry no foreign-key constraints, whose checks would double the cost
    of an import, and are rebuilt, never edited.
    """

    account = models.ForeignKey(
        Account, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    charge = models.ForeignKey(
        Transaction,
        on_delete=models.DO_NOTHING,
        related_name="paid_by",
        db_constraint=False,
        db_index=False,
    )
    source = models.ForeignKey(
        Transaction,
        on_delete=models.DO_NOTHING,
        related_name="paid",
        db_constraint=False,
        db_index=False,
    )
    amount = MoneyField()
    made_on = models.DateField()
    undone_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_amount_positive"),
            models.CheckConstraint(
                condition=Q(undone_on__isnull=True) | Q(undone_on__gte=models.F("made_on")),
                name="allocation_undone_after_made",
            ),
        ]


class OpenItemDelta(models.Model):
    """A change, on `on_date`, of what is open on a charge or of a payment's unapplied credit.

    The open amount of an item as of D is the sum of its deltas on or before D, so aging as of any
    date is one aggregate over this table (DESIGN principle 5). Deltas of one item on one day are
    netted, and zero nets are not stored, so a payment applied in full on its day leaves no row.
    """

    account = models.ForeignKey(
        Account, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    item = models.ForeignKey(
        Transaction,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    is_credit = models.BooleanField()
    due_on = models.DateField(null=True, blank=True)
    on_date = models.DateField()
    delta = MoneyField()


class OpenItem(models.Model):
    """What is open at the end of the book: unpaid charges and unapplied credit, one row each."""

    account = models.ForeignKey(
        Account, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    item = models.OneToOneField(
        Transaction, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    is_credit = models.BooleanField()
    due_on = models.DateField(null=True, blank=True)
    amount = MoneyField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="open_item_amount_positive"),
        ]


class CustomColumn(models.Model):
    """An `x_` column seen in an import, so that export writes it back."""

    file_kind = models.CharField(max_length=20)
    name = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["file_kind", "name"], name="custom_column_unique")
        ]


class BookImport(models.Model):
    """One import run that changed the book: what came in, and what it did."""

    source = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64)
    imported_at = models.DateTimeField(auto_now_add=True)
    counts = models.JSONField(default=dict)


class TimelineEvent(models.Model):
    """One thing that happened to an account: append-only, written in the same transaction as the
    change it records. `kind` is a dotted name (`import.transactions`, `notice.sent`,
    `notice.refused`, `fee.posted`, `hold.placed`, `note.added`, …)."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="timeline")
    at = models.DateTimeField()
    on = models.DateField()  # the business date it belongs to (a run's date)
    kind = models.CharField(max_length=40)
    actor = models.CharField(max_length=100)  # a user name, or "cycle", "import"
    summary = models.CharField(max_length=500)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["account", "at"], name="timeline_account_at")]
        triggers = [INSERT_ONLY]


class PeriodEvent(models.Model):
    """A month closed or reopened by a controller: insert-only, like the rest of the book.

    The book is closed through one day, the last of a month, or not at all: `closed_through` is
    that day after this event (null: nothing closed), so the latest row says where the book
    stands (`periods.closed_through`). Months close in order and reopen from the latest
    (`periods.period_close`, `periods.period_reopen`); a reopening says why.
    """

    class Kind(models.TextChoices):
        CLOSE = "close"
        REOPEN = "reopen"

    month = models.DateField()  # the first day of the month closed or reopened
    kind = models.CharField(max_length=10, choices=Kind.choices)
    closed_through = models.DateField(null=True, blank=True)
    at = models.DateTimeField()
    actor = models.CharField(max_length=150)
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["close", "reopen"]), name="period_event_kind_known"
            ),
            models.CheckConstraint(
                condition=~Q(kind="close")
                | Q(closed_through__isnull=False, closed_through__gte=models.F("month")),
                name="period_close_closes_its_month",
            ),
            models.CheckConstraint(
                condition=~Q(kind="reopen") | ~Q(reason=""), name="period_reopen_says_why"
            ),
        ]
        triggers = [INSERT_ONLY]

    def __str__(self) -> str:
        return f"{self.kind} {self.month:%Y-%m}"
