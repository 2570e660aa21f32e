"""The reports' own tables: the daily aging snapshots (`reports.snapshots`), and the
subscriptions that send reports by email with their sends (`reports.delivery`), and the
monthly collection goals (`reports.goals`).

Invariants (kept by `snapshots.snapshots_build`, the only writer):
- The built days are one unbroken run, one `SnapshotDay` each; a day outside it has no snapshot.
- An account's aging line as of a built day D is its `AgingSnapshot` row of the latest day in
  [max(the first of D's month, the first built day), D], or all zero when there is none: a row is
  written on the first built day and on the first of each month for every account with anything
  open (a keyframe, so that a read scans at most one month of rows), and on any other day only
  for an account whose line differs from the day before's.
- A subscription's recipient gets at most one email per period (`SubscriptionSend`, unique).
- Kept notices (`NoticeOutcome`, `NoticePayment`, `NoticeKept`; written by
  `notice_days.notice_days_keep` alone): an account's rows were all computed in one build, by
  the same statements as the live `notices` report, from the book as it stood at its marks
  (`NoticeKept`: the highest transaction and plan ids then). A row of day D is exact for as long
  as the account has no transaction with a higher id posted on or before D + 13 and no plan with
  a higher id made on or before D + 13 (the book is insert-only), and its notices are the same;
  the report checks both at every read and computes any other account live.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from arrears.core.fields import MoneyField
from arrears.ledger.models import Account


class AgingSnapshot(models.Model):
    """An account's aging as of a day's end: the open charges by bucket (0, 30, 60, 90 days past
    due, as `arrears aging`), and its unapplied credit."""

    account = models.ForeignKey(
        Account, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    day = models.DateField()
    current = MoneyField()
    d1_30 = MoneyField()
    d31_60 = MoneyField()
    d61_90 = MoneyField()
    d91_plus = MoneyField()
    credit = MoneyField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "day"], name="aging_snapshot_account_day")
        ]
        indexes = [models.Index(fields=["day"], name="aging_snapshot_day")]


class SnapshotDay(models.Model):
    """A built day, with the fingerprint of the book's open-item deltas dated that day when it
    was built: a later build that finds a different one rebuilds from that day."""

    day = models.DateField(primary_key=True)
    deltas = models.IntegerField()
    fingerprint = models.BigIntegerField()


class AgingRoll(models.Model):
    """An account's roll sums of a whole built month (`rolls.roll_sums`): the amount in each of
    the first four buckets on the month's first day, and what of those same charges is open on
    its last day in a later bucket. Written with the month's snapshots, when all its days are
    built; no row for an account with all eight zero."""

    account = models.ForeignKey(
        Account, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    month = models.DateField()  # its first day
    start0 = models.BigIntegerField()
    start1 = models.BigIntegerField()
    start2 = models.BigIntegerField()
    start3 = models.BigIntegerField()
    rolled0 = models.BigIntegerField()
    rolled1 = models.BigIntegerField()
    rolled2 = models.BigIntegerField()
    rolled3 = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "month"], name="aging_roll_account_month")
        ]
        indexes = [models.Index(fields=["month"], name="aging_roll_month")]


SUBSCRIPTION_FORMATS = ("csv", "xlsx", "pdf", "json")


class Subscription(models.Model):
    """A report sent by email on a schedule to users (`reports.delivery`; made and changed by
    `access.acts_subscriptions`, which checks the report's name, the recipients and who may).

    Each recipient gets the report as they would read it (their role's scope), as a file of
    `format`. `every` is a schedule of `reports.schedules` ("weekly:mon"). Paused or removed, it
    is not `active`; a removed one keeps its row and its sends (`removed_at`)."""

    report = models.CharField(max_length=60)
    recipients = models.JSONField(default=list)  # user names, sorted
    every = models.CharField(max_length=16)
    format = models.CharField(max_length=4)
    by = models.CharField(max_length=20, blank=True)  # the report's grouping, when it has one
    active = models.BooleanField(default=True)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField()
    created_on = models.DateField()  # the book's day: its first send is on or after it
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(format__in=SUBSCRIPTION_FORMATS), name="subscription_format"
            ),
            models.CheckConstraint(
                condition=models.Q(removed_at__isnull=True) | models.Q(active=False),
                name="subscription_removed_inactive",
            ),
        ]


class SubscriptionSend(models.Model):
    """One recipient's email of one period (`reports.delivery`): reserved, with its archived
    message, and committed before the server is asked; `sent_at` once the server took it. Unique
    per subscription, recipient and period, so a second run sends nothing twice; a row not yet
    sent is sent again, the same bytes and Message-ID, by the next run."""

    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="sends")
    username = models.CharField(max_length=150)
    period = models.CharField(max_length=10)  # "2026-12-06", "2026-W49", "2026-12"
    to = models.EmailField()
    message_id = models.CharField(max_length=200)
    document = models.CharField(max_length=500)  # the message's archive name (.eml)
    sha256 = models.CharField(max_length=64)  # of the message's bytes
    reserved_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "username", "period"], name="subscription_send_once"
            )
        ]


class CollectionGoal(models.Model):
    """A month's collection goal for a property, a portfolio or the whole book, in one currency
    (docs/metrics.md, "Forecast vs actual"). Set, imported or proposed through the acts of
    `arrears.access.acts_goals`, whose audit rows keep every earlier amount: a goal changed is
    this row updated and an audit row saying what it was."""

    class Scope(models.TextChoices):
        PROPERTY = "property", "property"
        PORTFOLIO = "portfolio", "portfolio"
        BOOK = "book", "book"

    class Source(models.TextChoices):
        ENTERED = "entered", "entered"
        IMPORTED = "imported", "imported"
        PROPOSED = "proposed", "proposed"

    month = models.DateField()  # its first day
    scope_kind = models.CharField(max_length=10, choices=Scope.choices)
    scope_key = models.CharField(max_length=64, blank=True)  # a property's id, a portfolio
    currency = models.CharField(max_length=3)
    amount = MoneyField()
    set_by = models.CharField(max_length=150)
    set_at = models.DateTimeField()
    source = models.CharField(max_length=10, choices=Source.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "scope_kind", "scope_key", "currency"],
                name="collection_goal_unique",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="collection_goal_positive"),
            models.CheckConstraint(condition=Q(month__day=1), name="collection_goal_month_first"),
            models.CheckConstraint(
                condition=Q(scope_kind="book", scope_key="")
                | Q(scope_kind__in=["property", "portfolio"]) & ~Q(scope_key=""),
                name="collection_goal_scope_key",
            ),
            models.CheckConstraint(
                condition=Q(source__in=["entered", "imported", "proposed"]),
                name="collection_goal_source",
            ),
        ]


class NoticeOutcome(models.Model):
    """A notice sent (`works_sql.notices`: one account's policy step by one channel on one day)
    and what followed it within 14 days, kept (`reports.notice_days`): the account's past due
    at the start of its day, what it paid in the 14 days from it, and the outcome
    (`works.OUTCOMES`)."""

    account = models.ForeignKey(
        Account, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    policy = models.CharField(max_length=64)
    step = models.CharField(max_length=64)
    channel = models.CharField(max_length=20)
    day = models.DateField()
    past_due = models.BigIntegerField()  # cents
    paid = models.BigIntegerField()  # cents
    outcome = models.CharField(max_length=10)

    class Meta:
        indexes = [models.Index(fields=["day"], name="notice_outcome_day")]


class NoticePayment(models.Model):
    """A payment counted in a kept notice's 14 days, with the day of the latest earlier kept
    notice that counts it too: of the same policy, step and channel (`line_before`), and of
    any (`account_before`; a notice of the same day sorted before it by policy, step and
    channel counts as earlier). A period's figures count it once where that day is outside
    the period (or its month, grouped by month)."""

    account = models.ForeignKey(
        Account, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    policy = models.CharField(max_length=64)
    step = models.CharField(max_length=64)
    channel = models.CharField(max_length=20)
    day = models.DateField()
    payment = models.BigIntegerField()  # the transaction's id
    amount = models.BigIntegerField()  # cents
    line_before = models.DateField(null=True, blank=True)
    account_before = models.DateField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["day"], name="notice_payment_day")]


class NoticeKept(models.Model):
    """An account's kept notices' marks: the book's highest transaction and plan ids when
    they were computed. A later transaction or plan of the account dated within a day's 14 days
    (or before it) makes that day's row stale."""

    account = models.OneToOneField(
        Account, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    txn_mark = models.BigIntegerField()
    plan_mark = models.BigIntegerField()
    through = models.DateField()  # the last day kept
