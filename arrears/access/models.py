"""Users' roles and scopes, API tokens, the audit trail and failed sign-ins.

Invariants:
- a user has at most one profile; an attorney's or a paralegal's profile names a firm;
- a token is stored only as its SHA-256 (the token itself is shown once, when issued);
- audit rows are only inserted, never changed or deleted (sign-ins, failed ones too, are kept);
- an assignment names exactly one of an account, a property or a portfolio, and a target has at
  most one open assignment (the most specific wins: account, then property, then portfolio);
  an assignment ended is kept, with the day it ended (excluded), so the past can be asked;
- a coverage runs from `starts_on` to `ends_on`, both included, cut short by `ended_on`
  (excluded); no one covers for themselves.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from arrears.access.permissions import (
    ADMIN,
    ATTORNEY,
    CONTROLLER,
    COORDINATOR,
    FIRM_ROLES,
    MANAGER,
    PARALEGAL,
    ROLES,
)
from arrears.ledger.models import INSERT_ONLY, Account, Property

# How each role reads on the pages (the stored value is the code).
ROLE_LABELS = {
    COORDINATOR: _("coordinator"),
    MANAGER: _("manager"),
    ATTORNEY: _("attorney"),
    PARALEGAL: _("paralegal"),
    CONTROLLER: _("controller"),
    ADMIN: _("admin"),
}


class Profile(models.Model):
    """A user's role and, for a property manager, the properties they manage."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="arrears_profile"
    )
    role = models.CharField(max_length=20, choices=[(r, ROLE_LABELS[r]) for r in ROLES])
    firm = models.CharField(max_length=100, blank=True)  # an attorney's or paralegal's firm
    properties = models.ManyToManyField(Property, blank=True, related_name="+")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(role__in=ROLES), name="profile_role_known"),
            models.CheckConstraint(
                condition=~Q(role__in=FIRM_ROLES) | ~Q(firm=""),
                name="profile_firm_role_has_firm",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    digest = models.CharField(max_length=64, unique=True)  # SHA-256 of the token, hex
    hint = models.CharField(max_length=12, blank=True)  # its first characters, to tell it apart
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)  # refused from then on; row kept


class AuditEntry(models.Model):
    """One change made through the web pages, the API or the command line, or one sign-in,
    failed sign-in or sign-out. `username` is the user's, the name typed at a failed sign-in, or
    `system:<login>` for a system job run from the command line (via "system", no user)."""

    at = models.DateTimeField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150)
    via = models.CharField(max_length=10)  # web, api, cli, system
    verb = models.CharField(max_length=60)
    account_id = models.CharField(max_length=64, blank=True)
    ip = models.CharField(max_length=45, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["account_id", "at"], name="audit_account_at"),
            # the admin's audit log: newest first, by user, by verb
            models.Index(fields=["at"], name="audit_at"),
            models.Index(fields=["username", "at"], name="audit_username_at"),
            models.Index(fields=["verb", "at"], name="audit_verb_at"),
        ]
        triggers = [INSERT_ONLY]  # PostgreSQL refuses to change or delete an entry


class LoginFailure(models.Model):
    """A failed sign-in: counted per user name and address to lock out guessing, and per address
    to lock out spraying (one password tried against many names)."""

    username = models.CharField(max_length=150)
    ip = models.CharField(max_length=45)
    at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["username", "ip", "at"], name="login_failure_who_at"),
            models.Index(fields=["ip", "at"], name="login_failure_ip_at"),
        ]


class Assignment(models.Model):
    """Who works an account: a coordinator given an account, a property or a portfolio from
    `since` until `ended_on` (excluded; open while null). The most specific assignment wins:
    an account's own, else its property's, else its property's portfolio's
    (`access.assigned.accounts_assigned`)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assignments"
    )
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    property = models.ForeignKey(
        Property, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    portfolio = models.CharField(max_length=64, blank=True)
    since = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    assigned_by = models.CharField(max_length=150)
    ended_by = models.CharField(max_length=150, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(account__isnull=False, property__isnull=True, portfolio="")
                    | Q(account__isnull=True, property__isnull=False, portfolio="")
                    | (Q(account__isnull=True, property__isnull=True) & ~Q(portfolio=""))
                ),
                name="assignment_one_target",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("since")),
                name="assignment_ends_after_it_starts",
            ),
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(ended_on__isnull=True, account__isnull=False),
                name="assignment_one_open_per_account",
            ),
            models.UniqueConstraint(
                fields=["property"],
                condition=Q(ended_on__isnull=True, property__isnull=False),
                name="assignment_one_open_per_property",
            ),
            models.UniqueConstraint(
                fields=["portfolio"],
                condition=Q(ended_on__isnull=True) & ~Q(portfolio=""),
                name="assignment_one_open_per_portfolio",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "ended_on"], name="assignment_user_open"),
            models.Index(fields=["portfolio", "ended_on"], name="assignment_portfolio_open"),
        ]


class Coverage(models.Model):
    """A backup covering for a coordinator who is out: from `starts_on` to `ends_on` (both
    included) the backup's worklist also holds the accounts of `user_out`; `ended_on` (excluded)
    cuts it short when they are back early."""

    user_out = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="coverages_out"
    )
    backup = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="coverages_backing"
    )
    starts_on = models.DateField()
    ends_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    made_by = models.CharField(max_length=150)
    ended_by = models.CharField(max_length=150, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="coverage_ends_after_start"
            ),
            models.CheckConstraint(
                condition=~Q(user_out=models.F("backup")), name="coverage_not_oneself"
            ),
        ]
        indexes = [
            models.Index(fields=["backup", "starts_on"], name="coverage_backup_starts"),
            models.Index(fields=["user_out", "starts_on"], name="coverage_out_starts"),
        ]
