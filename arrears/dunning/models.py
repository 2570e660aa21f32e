"""The collection cycle's records: holds, policies, consent, contact attempts, and actions.

Invariants:
- an action's idempotency key is unique: a step is done at most once (a refusal is recorded at
  most once a day, keyed by the step's key and the date);
- holds are released, never deleted;
- a policy version is never edited: a change is a new version.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from arrears.core.fields import MoneyField
from arrears.ledger.models import Account, Party, Transaction


class Hold(models.Model):
    class Reason(models.TextChoices):
        DISPUTE = "dispute", _("dispute")
        BANKRUPTCY = "bankruptcy", _("bankruptcy")
        MILITARY = "military", _("military")
        CEASE = "cease", _("cease")
        DECEASED = "deceased", _("deceased")
        REPRESENTED = "represented", _("represented")
        PLAN = "plan", _("plan")
        MANUAL = "manual", _("manual")

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="holds")
    party = models.ForeignKey(
        Party, null=True, blank=True, on_delete=models.PROTECT, related_name="holds"
    )
    reason = models.CharField(max_length=20, choices=Reason.choices)
    placed_on = models.DateField()
    until = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)
    placed_by = models.CharField(max_length=100)
    placed_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)
    released_on = models.DateField(null=True, blank=True)  # the business date of the release
    released_by = models.CharField(max_length=100, blank=True)

    class Meta:
        indexes = [models.Index(fields=["account"], name="hold_account")]

    def __str__(self) -> str:
        return f"{self.reason} hold on {self.account_id}"


class CompanyPolicy(models.Model):
    """A company's own policy: the TOML text of one version."""

    name = models.CharField(max_length=64)
    version = models.PositiveIntegerField()
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="company_policy_version")
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class PolicyOverride(models.Model):
    account = models.OneToOneField(Account, on_delete=models.PROTECT, related_name="+")
    policy = models.CharField(max_length=64)


class Consent(models.Model):
    """A party's consent to, or opt-out of, a channel; the latest row for a channel wins.

    Rows are only added: a withdrawal is a new row, so what the party agreed to, when and how,
    stays on record (47 USC §227(b)(1)(A); the FCC's revocation rule, 47 CFR §64.1200(a)(10))."""

    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="consents")
    channel = models.CharField(max_length=20)
    granted = models.BooleanField()
    at = models.DateTimeField()  # when the party gave or withdrew it
    source = models.CharField(max_length=200, blank=True)
    how = models.CharField(max_length=20, blank=True)  # written, verbal, web, reply, import
    words = models.TextField(blank=True)  # what the party agreed to, or said, word for word
    recorded_by = models.CharField(max_length=150, blank=True)


class ContactAttempt(models.Model):
    """A call or text placed, for the frequency caps; `conversation` when someone was reached."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=20)
    at = models.DateTimeField()
    outcome = models.CharField(max_length=30, blank=True)
    conversation = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["account", "at"], name="attempt_account_at")]


class Action(models.Model):
    """A step of a policy done, or refused, for one account (and addressee) on one date."""

    class Status(models.TextChoices):
        DONE = "done"  # a fee posted, a referral recommended, a hold placed
        QUEUED = "queued"  # a letter or an email waiting for correspondence to send it
        TASK = "task"  # a call or a text for a coordinator
        REFUSED = "refused"  # the guard said no; `rule` says why
        CLOSED = "closed"  # a task done or dropped
        FAILED = "failed"  # an email given up or bounced; `reason` says why ("email failed: …")

    key = models.CharField(max_length=300)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="actions")
    party = models.ForeignKey(
        Party, null=True, blank=True, on_delete=models.PROTECT, related_name="actions"
    )
    role = models.CharField(max_length=20, blank=True)
    policy = models.CharField(max_length=64)
    policy_version = models.PositiveIntegerField()
    step = models.CharField(max_length=64)
    action = models.CharField(max_length=30)
    channel = models.CharField(max_length=20, blank=True)
    template = models.CharField(max_length=100, blank=True)
    language = models.CharField(max_length=35, blank=True)
    amount = MoneyField(null=True, blank=True)
    deadline = models.DateField(null=True, blank=True)
    delinquency = models.DateField(null=True, blank=True)
    charge = models.ForeignKey(
        Transaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices)
    rule = models.CharField(max_length=40, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    run_on = models.DateField()
    created_at = models.DateTimeField()
    document = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key"], name="action_key_unique")]
        indexes = [
            models.Index(fields=["account", "run_on"], name="action_account_run"),
            models.Index(fields=["run_on", "status"], name="action_run_status"),
        ]

    def __str__(self) -> str:
        return self.key


class RunLog(models.Model):
    """One daily run: when it started and finished, and what it did; its chunks (`RunChunk`)
    say how far it has got. `stopped` says why a run ended before its chunks were all done
    (no worker answered, or none finished a chunk within the wait): its chunks not done yet are
    skipped by any worker that finds them later."""

    run_on = models.DateField()
    dry_run = models.BooleanField(default=False)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict)
    chunks_total = models.IntegerField(default=0)
    stopped = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True) | Q(finished_at__gte=models.F("started_at")),
                name="run_finished_after_started",
            )
        ]


class RunChunk(models.Model):
    """A chunk of a real run done: written in the chunk's own transaction with its rows. A
    worker's chunk holds what it did (`result`: its actions and refusals as the run's JSON has
    them, compressed: `run_rows.packed`) until its run has read it back (from here, not from the
    broker), then {}. A chunk
    handed to a worker twice (redelivered after a worker died, or a duplicate) finds its row and
    returns it rather than deciding again."""

    run = models.ForeignKey(RunLog, on_delete=models.PROTECT, related_name="chunks")
    index = models.IntegerField()
    accounts = models.IntegerField()
    result = models.JSONField(default=dict)
    done_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "index"], name="run_chunk_once"),
            models.CheckConstraint(condition=Q(index__gte=0), name="run_chunk_index"),
        ]


class WorklistSnooze(models.Model):
    """A worklist line a coordinator set aside: snoozed until a date (`until`: it comes back
    that day), or dismissed (`until` empty: it stays away while its reason is the same, `ref`,
    and comes back when the reason recurs in a new form). A task's line is the task's
    (`action_id`); any other line is the account's and the kind's. Written with its timeline row;
    never edited."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=30)
    action_id = models.IntegerField(null=True, blank=True)
    ref = models.CharField(max_length=300, blank=True)
    until = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=500)
    on = models.DateField()
    by = models.CharField(max_length=100)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["account", "kind"], name="worklist_snooze_account")]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="worklist_snooze_has_reason"),
            models.CheckConstraint(
                condition=Q(until__isnull=True) | Q(until__gt=models.F("on")),
                name="worklist_snooze_until_later",
            ),
        ]
