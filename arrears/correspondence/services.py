"""Writes of correspondence: company templates here; outbound letters and emails (outbound.py),
the letters batch (batches.py), proof of mailing and returned mail (mailing.py), importable from
here as before.

Invariants: an outbound row has its action's idempotency key (unique), so queuing, rendering and
mailing each happen once per action however often they are repeated; every change of an
outbound letter writes a timeline row in the same transaction; an archived document is never
overwritten (archive.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from arrears.core.errors import ValidationError
from arrears.correspondence.batches import (
    BATCH_CHUNK as BATCH_CHUNK,
)
from arrears.correspondence.batches import (
    MANIFEST_COLUMNS as MANIFEST_COLUMNS,
)
from arrears.correspondence.batches import (
    BatchResult as BatchResult,
)
from arrears.correspondence.batches import (
    letters_batch as letters_batch,
)
from arrears.correspondence.catalog import CATALOG, LANGUAGES
from arrears.correspondence.mailing import (
    MailedResult as MailedResult,
)
from arrears.correspondence.mailing import (
    letters_mailed as letters_mailed,
)
from arrears.correspondence.mailing import (
    mail_returned as mail_returned,
)
from arrears.correspondence.models import Template
from arrears.correspondence.outbound import (
    LETTER_CHANNELS as LETTER_CHANNELS,
)
from arrears.correspondence.outbound import (
    OUTBOUND_CHANNELS as OUTBOUND_CHANNELS,
)
from arrears.correspondence.outbound import (
    POSTAGE as POSTAGE,
)
from arrears.correspondence.outbound import (
    Recheck as Recheck,
)
from arrears.correspondence.outbound import (
    Rechecker as Rechecker,
)
from arrears.correspondence.outbound import (
    document_name as document_name,
)
from arrears.correspondence.outbound import (
    email_unprepare as email_unprepare,
)
from arrears.correspondence.outbound import (
    outbound_cancel as outbound_cancel,
)
from arrears.correspondence.outbound import (
    outbound_create_many as outbound_create_many,
)
from arrears.correspondence.outbound import (
    outbound_dated as outbound_dated,
)
from arrears.correspondence.outbound import (
    outbound_queue as outbound_queue,
)
from arrears.correspondence.outbound import (
    outbounds_recheck as outbounds_recheck,
)


@transaction.atomic
def template_add(
    *,
    name: str,
    language: str,
    subject: str,
    body: str,
    actor: str,
    requires: Sequence[str] | None = None,
) -> Template:
    """Store a company's version of a template (the next version of its name and language).

    The subject and body must compile as Django templates (ValidationError otherwise); what is
    already sent keeps the version it was rendered with. `requires` names the merge fields the
    version may not render without (dotted paths); None keeps its name's (catalog.REQUIRES).
    """
    if requires is not None:
        bad = [f for f in requires if not re.fullmatch(r"[a-z_][a-z0-9_]*(\.[a-z0-9_]+)*", f)]
        if bad:
            raise ValidationError(
                _("not a merge field: {name!r}"),
                code="template_requires_invalid",
                field="requires",
                name=bad[0],
            )
        requires = list(dict.fromkeys(requires))
    _template_check(name=name, language=language, subject=subject, body=body)
    last = Template.objects.filter(name=name, language=language).order_by("-version").first()
    version = last.version + 1 if last else 1
    return Template.objects.create(
        name=name,
        language=language,
        version=version,
        subject=subject,
        body=body,
        created_at=dj_timezone.now(),
        created_by=actor,
        requires=requires,
    )


def _template_check(*, name: str, language: str, subject: str, body: str) -> None:
    """ValidationError unless the name, the language, the subject and the body make a template."""
    from django.template import TemplateSyntaxError, engines

    if language not in LANGUAGES:
        raise ValidationError(
            _("a template's language is one of {choices}"),
            code="template_language_unknown",
            field="language",
            language=language,
            choices=", ".join(LANGUAGES),
        )
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,99}", name):
        raise ValidationError(
            _("a template name is lower-case letters, digits and dashes: {name!r}"),
            code="template_name_invalid",
            field="name",
            name=name,
        )
    for part, source in (("subject", subject), ("body", body)):
        try:
            engines["django"].from_string(source)
        except TemplateSyntaxError as exc:
            raise ValidationError(
                _("the template's {field} does not compile: {reason}"),
                code="template_syntax",
                field=part,
                reason=str(exc),
            ) from None


def template_names() -> list[tuple[str, str, int]]:
    """Every template: (name, language, latest version; 0 = built in only)."""
    out = {(name, lang): 0 for name in CATALOG for lang in LANGUAGES}
    for name, lang, version in Template.objects.values_list("name", "language", "version"):
        out[(name, lang)] = max(out.get((name, lang), 0), version)
    return sorted((n, lang, v) for (n, lang), v in out.items())
