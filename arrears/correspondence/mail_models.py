"""Email out and in, and texts: the records of what was sent and received.

Invariants held by the database:
- (an outbound email is an `Outbound` row of channel email: its key is unique)
- an inbound message is filed once: its raw bytes' SHA-256 is unique;
- a text's `key` is unique, as an email's.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from arrears.ledger.models import Account, Party


class InboundEmail(models.Model):
    """One message read from the mailbox, filed on an account's timeline or waiting in triage."""

    class Status(models.TextChoices):
        FILED = "filed"  # matched to an account and on its timeline
        TRIAGE = "triage"  # not matched: a coordinator assigns it

    sha256 = models.CharField(max_length=64)
    message_id = models.CharField(max_length=300, blank=True)
    in_reply_to = models.CharField(max_length=300, blank=True)
    references = models.TextField(blank=True)
    from_address = models.CharField(max_length=254, blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    subject = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)  # the message's Date header
    received_at = models.DateTimeField()
    source = models.CharField(max_length=300)  # the mailbox and the message's name in it
    document = models.ForeignKey(  # the raw message in the archive
        "correspondence.Document", on_delete=models.PROTECT, related_name="+"
    )
    excerpt = models.TextField(blank=True)  # the start of its text, for the timeline and triage
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    party = models.ForeignKey(
        Party, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    matched_by = models.CharField(max_length=40, blank=True)  # thread, sender, account, unit, …
    why_unmatched = models.CharField(max_length=200, blank=True)  # for triage
    status = models.CharField(max_length=10, choices=Status.choices)
    category = models.CharField(max_length=20)
    rule = models.CharField(max_length=100)  # the classification rule that matched
    needs_answer = models.BooleanField(default=False)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.CharField(max_length=100, blank=True)
    bounce_of = models.CharField(max_length=300, blank=True)  # a delivery report's original

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sha256"], name="inbound_email_sha256_unique"),
            models.CheckConstraint(
                condition=Q(status="triage") | Q(account__isnull=False),
                name="inbound_email_filed_has_account",
            ),
        ]
        indexes = [
            models.Index(fields=["message_id"], name="inbound_email_message_id"),
            models.Index(fields=["from_address"], name="inbound_email_from"),
            models.Index(fields=["status", "needs_answer"], name="inbound_email_status"),
        ]

    def __str__(self) -> str:
        return f"{self.from_address}: {self.subject}"


class InboundAttachment(models.Model):
    email = models.ForeignKey(InboundEmail, on_delete=models.PROTECT, related_name="files")
    filename = models.CharField(max_length=255)
    mimetype = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    document = models.ForeignKey(
        "correspondence.Document", on_delete=models.PROTECT, related_name="+"
    )


class OutboundSms(models.Model):
    """One text handed to the SMS provider."""

    class Status(models.TextChoices):
        SENDING = "sending"
        SENT = "sent"
        FAILED = "failed"
        REFUSED = "refused"

    key = models.CharField(max_length=300)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="+")
    to_number = models.CharField(max_length=20)
    body = models.TextField()
    provider = models.CharField(max_length=40)
    provider_ref = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    rule = models.CharField(max_length=40, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    on = models.DateField()
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key"], name="outbound_sms_key_unique")]


class EmailBatch(models.Model):
    """A batch of one email send handed to a Celery worker (arrears.dunning.email_batches): the
    keys of its emails, in the send's order, and what the worker did with them (`result`: the
    batch's `SendReport` as JSON), written when it is done. The send reads the results back from
    here, not from the broker, then deletes its batches; a batch whose row is gone (its send
    gave up waiting) or done already does nothing when a worker finds it."""

    send = models.CharField(max_length=32)
    index = models.IntegerField()
    keys = models.JSONField(default=list)
    on = models.DateField()
    actor = models.CharField(max_length=150)
    result = models.JSONField(default=dict)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["send", "index"], name="email_batch_once"),
            models.CheckConstraint(condition=Q(index__gte=0), name="email_batch_index"),
        ]
