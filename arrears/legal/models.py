"""Firms and agencies, and the cases referred to them.

A referral *is* the case: it is made when a coordinator refers an account to a firm, and it then
goes through the statuses of `CASE_STATUSES` as the firm reports (the table keeps the name
`legal_referral`, and its id is the case's id in the CLI and the API).

Invariants:
- a firm's name is unique; a referral names a firm that exists (`services.referral_make`);
- an account has at most one open case per firm (open: not ended by `closed` or `recalled`);
- a case is never deleted: it ends (`withdrawn_on`, the day it was closed or recalled), and its
  account is protected;
- every change of a case's status is a `CaseEvent`, insert-only: the case's row carries the
  latest facts (status, index number, court, next hearing, judgment), its events the history.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from arrears.ledger.models import INSERT_ONLY, Account
from arrears.legal.statuses import STATUSES

FIRM_KINDS = {"law": _("law firm"), "agency": _("collection agency")}

# The statuses of a case, worded (their codes and order: `statuses.STATUSES`).
CASE_STATUSES = {
    "prepared": _("prepared"),
    "sent": _("sent to the firm"),
    "accepted": _("accepted by the firm"),
    "filed": _("filed"),
    "hearing": _("hearing scheduled"),
    "judgment": _("judgment"),
    "warrant": _("warrant of eviction"),
    "possession": _("possession"),
    "settled": _("settled"),
    "satisfied": _("satisfied"),
    "closed": _("closed"),
    "recalled": _("recalled"),
}
assert tuple(CASE_STATUSES) == STATUSES


class Firm(models.Model):
    """A law firm or a collection agency the company refers accounts to, with its fee terms.

    `jurisdictions` is the list of states it takes (empty: any); `contacts` a list of
    {"name", "email", "phone"}; the case file goes to `email` when it has one.
    """

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=10, choices=list(FIRM_KINDS.items()), default="law")
    # fee terms: a contingency on what is recovered, a flat fee per case, court costs advanced
    contingency_percent = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    flat_fee = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    advances_court_costs = models.BooleanField(default=False)
    jurisdictions = models.JSONField(default=list, blank=True)
    email = models.EmailField(blank=True)
    contacts = models.JSONField(default=list, blank=True)
    created_on = models.DateField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=list(FIRM_KINDS)), name="firm_kind_known"),
            models.CheckConstraint(
                condition=Q(contingency_percent__gte=0) & Q(contingency_percent__lte=100),
                name="firm_contingency_percent",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Referral(models.Model):
    """An account referred to a firm: the case. The firm's attorneys and paralegals see it while
    it is open."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="referrals")
    firm = models.CharField(max_length=100)  # a Firm's name (kept by name: older rows)
    referred_on = models.DateField()
    referred_by = models.CharField(max_length=150)
    note = models.CharField(max_length=500, blank=True)
    withdrawn_on = models.DateField(null=True, blank=True)  # the day the case ended
    # the case
    status = models.CharField(max_length=12, default="sent")
    status_on = models.DateField(null=True, blank=True)
    balance_referred = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    index_number = models.CharField(max_length=60, blank=True)
    court = models.CharField(max_length=200, blank=True)
    hearing_on = models.DateField(null=True, blank=True)  # the next hearing
    judgment_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    judgment_on = models.DateField(null=True, blank=True)
    packet = models.CharField(max_length=500, blank=True)  # the case file ZIP's archive name
    # what the case file holds and lacked: {"documents": [{"name", "sha256", …}], "missing": […]}
    packet_manifest = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "firm"],
                condition=Q(withdrawn_on__isnull=True),
                name="referral_open_once_per_firm",
            ),
            models.CheckConstraint(
                condition=Q(status__in=list(CASE_STATUSES)), name="referral_status_known"
            ),
        ]
        indexes = [models.Index(fields=["firm", "account"], name="referral_firm_account")]

    @property
    def is_open(self) -> bool:
        return self.withdrawn_on is None


class CaseEvent(models.Model):
    """One change of a case, as the firm or the coordinator reported it: insert-only."""

    case = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="events")
    status = models.CharField(max_length=12)
    on = models.DateField()  # the day it happened (a filing, a hearing, a judgment)
    at = models.DateTimeField()  # when it was recorded
    actor = models.CharField(max_length=150)
    note = models.CharField(max_length=500, blank=True)
    detail = models.JSONField(default=dict, blank=True)  # index number, court, amount, hearing

    class Meta:
        indexes = [models.Index(fields=["case", "at"], name="case_event_case_at")]
        triggers = [INSERT_ONLY]


class Meeting(models.Model):
    """The monthly meeting with a firm: held on a day, its minutes written to each case's
    timeline. The next meeting's agenda tells what changed since this one."""

    firm = models.CharField(max_length=100)
    month = models.CharField(max_length=7)  # YYYY-MM
    held_on = models.DateField()
    recorded_by = models.CharField(max_length=150)
    minutes = models.JSONField(default=dict, blank=True)  # {case id: text}

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["firm", "month"], name="meeting_once_per_month")
        ]


class DigestSent(models.Model):
    """The weekly email to a property manager of what changed on their buildings' cases
    (`digest.legal_digest_send`): one per manager per ISO week, reserved before it is sent (so a
    second run sends nothing twice) and marked `sent_at` once the server took it; a row not yet
    sent is tried again, with the same Message-ID, by the next run of the week."""

    username = models.CharField(max_length=150)
    week = models.CharField(max_length=8)  # the ISO week of the run's day, "2026-W13"
    to = models.EmailField()
    since = models.DateTimeField()  # the changes recorded from here …
    through = models.DateTimeField()  # … to here
    message_id = models.CharField(max_length=200)
    cases = models.JSONField(default=list)  # the ids of the cases it told of
    sha256 = models.CharField(max_length=64)  # of the message's bytes, archived
    reserved_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["username", "week"], name="digest_once_a_week"),
        ]


# -- settlements and write-offs (docs/legal.md, "Settlements and write-offs") --------------------

SETTLEMENT_STATUSES = {
    "offered": _("offered, to be approved"),
    "approved": _("approved"),
    "rejected": _("rejected"),
    "paid": _("paid"),
    "broken": _("broken"),
}


class Settlement(models.Model):
    """An amount agreed to close a case's balance, paid in installments (`SettlementInstallment`,
    which sum to it). Payments booked after it was offered (`book_position`) count toward it;
    once they reach the amount, what is left of the balance it settled (`balance`) is forgiven
    by one `SETTLE` credit (`forgiven`) and it is `paid`; an installment missed past its grace
    makes it `broken`. Offered above the approval threshold it waits for a manager of the
    property, a controller or an admin (`approved`/`rejected`); below it, it is approved as
    offered."""

    case = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="settlements")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="settlements")
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    balance = models.DecimalField(max_digits=14, decimal_places=2)  # owed when offered
    offered_on = models.DateField()
    offered_by = models.CharField(max_length=150)
    note = models.CharField(max_length=500, blank=True)
    # the book's last transaction when it was offered: only payments after it count
    book_position = models.BigIntegerField(default=0)
    grace_days = models.PositiveSmallIntegerField(default=5)
    needs_approval = models.BooleanField(default=True)
    status = models.CharField(max_length=10, default="offered")
    status_on = models.DateField()
    decided_by = models.CharField(max_length=150, blank=True)  # who approved or rejected
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True)  # a rejection's, a break's
    paid = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    forgiven = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=list(SETTLEMENT_STATUSES)), name="settlement_status_known"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="settlement_amount_positive"),
            models.CheckConstraint(
                condition=Q(amount__lte=models.F("balance")), name="settlement_not_above_balance"
            ),
            models.CheckConstraint(
                condition=Q(forgiven__isnull=True) | Q(forgiven__gte=0),
                name="settlement_forgiven_not_negative",
            ),
            # one settlement in force (offered or approved) per case at a time
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(status__in=["offered", "approved"]),
                name="settlement_one_pending_per_case",
            ),
        ]


class SettlementInstallment(models.Model):
    """One payment of a settlement: its amount due by its day."""

    settlement = models.ForeignKey(
        Settlement, on_delete=models.PROTECT, related_name="installments"
    )
    line = models.PositiveSmallIntegerField()
    due_on = models.DateField()
    amount = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["settlement", "line"], name="settlement_line_unique"),
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="settlement_installment_positive"
            ),
        ]


class WriteOff(models.Model):
    """A balance written off to bad debt by a controller (or an admin): one `WO` credit of
    `amount` (txn_id `txn_id`). The debt stays owed: a payment booked after it that would leave
    the account in credit is a recovery, for which a `WOR` charge reinstates what it pays
    (`recovered`, up to `amount`)."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="writeoffs")
    case = models.ForeignKey(
        Referral, null=True, blank=True, on_delete=models.PROTECT, related_name="writeoffs"
    )
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    written_off_on = models.DateField()
    reason = models.CharField(max_length=500)
    made_by = models.CharField(max_length=150)
    made_at = models.DateTimeField()
    txn_id = models.CharField(max_length=64, unique=True)
    book_position = models.BigIntegerField(default=0)  # the WO credit's own transaction
    recovered = models.DecimalField(max_digits=14, decimal_places=2, default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="writeoff_amount_positive"),
            models.CheckConstraint(
                condition=Q(recovered__gte=0) & Q(recovered__lte=models.F("amount")),
                name="writeoff_recovered_within_amount",
            ),
        ]
