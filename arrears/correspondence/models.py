"""Correspondence records: templates, outbound letters and emails, the document archive, proof of
mailing and returned mail.

Invariants held by the database:
- an outbound letter or email has the idempotency key of the action that asked for it (unique):
  one action, one document, one sending, however often the run or the batch is repeated;
- an archived document is stored once: its SHA-256 and its storage name are each unique, and the
  file is never overwritten;
- a certified-mail article number is attached to at most one letter;
- a letter is printed only in a complete print batch (its print file and manifest written); at
  most one batch is open (being printed) at a time, and a rerun finishes it;
- a template version is never edited: a change is a new version of its name and language.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from arrears.core.fields import MoneyField
from arrears.ledger.models import Account, Party


class Template(models.Model):
    """A company's own version of a template (overrides the built-in file of the same name).

    `subject` and `body` are Django template source; `body` is the letter's HTML body (the part
    inside the letterhead). Version numbers start at 1; the built-in file is version 0.
    """

    name = models.CharField(max_length=100)
    language = models.CharField(max_length=35, default="en")
    version = models.PositiveIntegerField()
    subject = models.CharField(max_length=300)
    body = models.TextField()
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=100)
    # The merge fields this version requires (a list of dotted paths); null: its name's
    # built-in ones (catalog.REQUIRES), none for a name of the company's own.
    requires = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["name", "language", "version"], name="template_version_unique"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="template_version_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} [{self.language}] v{self.version}"


class Document(models.Model):
    """One rendered document in the archive, stored once under `name` with its SHA-256."""

    sha256 = models.CharField(max_length=64)
    name = models.CharField(max_length=500)  # the storage name (a path under the archive)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=30)  # letter, statement, email, attachment, print
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sha256"], name="document_sha256_unique"),
            models.UniqueConstraint(fields=["name"], name="document_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class PrintBatch(models.Model):
    """One print file and its mailing manifest, and the letters they hold (`Outbound.batch`).

    Opened naming its letters (re-checked, their date and figures fixed), then each letter
    rendered into the archive, then the print file and manifest written and archived, and only
    then `complete`: a letter of an open batch is not printed yet, and a rerun after a crash
    finishes the same batch with the PDFs already archived.
    """

    class Status(models.TextChoices):
        OPEN = "open"  # named its letters; print file and manifest not yet written
        COMPLETE = "complete"  # print file and manifest written and archived

    on = models.DateField()  # the day its letters are dated and printed
    number = models.PositiveIntegerField()  # the day's 1st, 2nd… batch: print-DATE[-N].pdf
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    actor = models.CharField(max_length=100)
    created_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    print_file = models.ForeignKey(
        "Document", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    manifest = models.ForeignKey(
        "Document", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["on", "number"], name="print_batch_day_number"),
            models.UniqueConstraint(
                fields=["status"], condition=Q(status="open"), name="print_batch_one_open"
            ),
        ]

    def __str__(self) -> str:
        return f"batch {self.pk} of {self.on}"

    @property
    def stem(self) -> str:
        """The file names' common part: print-DATE.pdf and manifest-DATE.csv, then -2, -3…"""
        return self.on.isoformat() + (f"-{self.number}" if self.number > 1 else "")


class Outbound(models.Model):
    """A letter or an email the cycle (or a person) asked for: queued, then rendered, then mailed
    or sent. `key` is the asking action's idempotency key."""

    class Status(models.TextChoices):
        QUEUED = "queued"  # waiting for the batch (letters) or the sender (emails)
        RENDERED = "rendered"  # the document is in the archive
        MAILED = "mailed"  # a letter handed to the post (proof of mailing attached)
        SENT = "sent"  # an email accepted by the SMTP server
        RETURNED = "returned"  # a letter came back undeliverable
        BOUNCED = "bounced"  # an email bounced
        FAILED = "failed"  # sending gave up after its last try; `error` says why
        # No longer due when it was to go out (paid, held, disputed…); `error` says why
        CANCELLED = "cancelled"

    key = models.CharField(max_length=300)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="outbound")
    party = models.ForeignKey(
        Party, null=True, blank=True, on_delete=models.PROTECT, related_name="outbound"
    )
    role = models.CharField(max_length=20, blank=True)
    channel = models.CharField(max_length=20)  # letter, certified_letter, email
    template = models.CharField(max_length=100)
    language = models.CharField(max_length=35, default="en")
    template_version = models.PositiveIntegerField(null=True, blank=True)  # 0: built-in file
    policy = models.CharField(max_length=64, blank=True)
    step = models.CharField(max_length=64, blank=True)
    run_on = models.DateField()  # the day the run (or a person) queued it
    # The document's date, fixed when it goes out (printed for mailing, prepared to be emailed),
    # with `amount` and `deadline` counted again from the book as of that day.
    dated_on = models.DateField(null=True, blank=True)
    batch = models.ForeignKey(
        PrintBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="letters"
    )
    amount = MoneyField(null=True, blank=True)
    deadline = models.DateField(null=True, blank=True)
    delinquency = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    # The archive name the document is (or will be) stored under: known when the run queues it.
    document_name = models.CharField(max_length=500)
    document = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.PROTECT, related_name="outbound"
    )
    address = models.TextField(blank=True)  # the addressee block as printed (letters)
    rendered_at = models.DateTimeField(null=True, blank=True)
    postage_class = models.CharField(max_length=30, blank=True)
    article_number = models.CharField(max_length=22, blank=True)
    mailed_on = models.DateField(null=True, blank=True)
    returned_on = models.DateField(null=True, blank=True)
    # Email: a stable Message-ID chosen before the first try, reused on every retry.
    message_id = models.CharField(max_length=300, blank=True)
    recipient = models.CharField(max_length=254, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # Email: the first counted try, the next one the retry schedule allows (a 4xx or a timeout
    # put it off), and when the email was given up (failed) or bounced: mail_out's docstring.
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    given_up_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key"], name="outbound_key_unique"),
            models.UniqueConstraint(
                fields=["article_number"],
                condition=~Q(article_number=""),
                name="outbound_article_number_unique",
            ),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0),
                name="outbound_amount_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["run_on", "channel", "status"], name="outbound_run_channel"),
            models.Index(fields=["account", "run_on"], name="outbound_account_run"),
        ]

    def __str__(self) -> str:
        return self.key


class ReturnedMail(models.Model):
    """A letter returned undeliverable: the address it was sent to is bad for that party until
    the party's address on file changes (the guard refuses letters to it; dunning reads this)."""

    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="returned_mail")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    outbound = models.ForeignKey(
        Outbound, null=True, blank=True, on_delete=models.PROTECT, related_name="returns"
    )
    address_key = models.CharField(max_length=500)  # `addresses.address_key` of the address
    address = models.TextField()
    returned_on = models.DateField()
    reason = models.CharField(max_length=200, blank=True)
    recorded_by = models.CharField(max_length=100)
    recorded_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["party"], name="returned_mail_party")]


# Mail's models live in their own module (email in, texts); importing it registers them.
from arrears.correspondence import mail_models  # noqa: E402, F401
