"""The reads and acts of case tracking beyond one case (arrears.legal): a firm's hearings as a
calendar file, and the weekly digest of case news to property managers.

Scope as `acts_legal.cases_visible`: a firm's attorney or paralegal has their own firm's
calendar only (another firm's is not found, as a case of it is not); a manager's calendar holds
the hearings of their buildings' cases; the others see every case. The digest is sent by the
company (a coordinator, an admin, or the system's scheduled job).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils.translation import gettext_lazy as _

from arrears.access import permissions
from arrears.access.acting import By, run_job
from arrears.access.acts_legal import cases_visible
from arrears.access.models import Profile
from arrears.access.selectors import authorize, profile_of
from arrears.access.services import SystemActor
from arrears.core.dates import today
from arrears.core.errors import NotFoundError, ValidationError
from arrears.correspondence.mail_message import Sender
from arrears.correspondence.smtp import smtp_from_env
from arrears.legal import digest
from arrears.legal.ics import hearings_ics
from arrears.legal.selectors import hearing_dates
from arrears.legal.services import firm_named

# the digest is the company's, sent on a schedule (`arrears case digest` from cron)
permissions.register("case.digest", [permissions.COORDINATOR, permissions.ADMIN])


@dataclass(frozen=True)
class CalendarFile:
    firm: str
    filename: str  # hearings-hale-co.ics
    data: bytes
    hearings: int


def _firm_of(actor: Any, firm: str) -> str:
    """The firm whose calendar `actor` asks for: a firm's user their own (another firm is not
    found); anyone else must name one that exists."""
    if not isinstance(actor, SystemActor):
        authorize(actor, "case.view")
        profile = profile_of(actor)
        if profile is not None and profile.role in permissions.FIRM_ROLES:
            if firm.strip() and firm_named(firm).name != profile.firm:
                raise NotFoundError(_("no firm is named {firm}"), code="firm_unknown", firm=firm)
            return profile.firm
    if not firm.strip():
        raise ValidationError(
            _("a calendar is of one firm: name it"), code="calendar_firm_missing", field="firm"
        )
    return firm_named(firm).name


def case_calendar(*, actor: Any, firm: str = "") -> CalendarFile:
    """The hearings of `firm`'s cases that `actor` may see, as an iCalendar file (RFC 5545):
    every hearing set, those moved or of a case ended cancelled (`legal.ics`).

    Raises NotFoundError for a firm that does not exist (or another firm, asked by a firm's
    user), ValidationError when no firm is named by someone who is not a firm's."""
    name = _firm_of(actor, firm)
    cases = cases_visible(actor, firm=name, open_only=False)
    hearings = hearing_dates(cases, today=today())
    sender = Sender.from_env()
    data = hearings_ics(hearings, name=f"{name}: hearings", domain=sender.domain)
    slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
    while "--" in slug:
        slug = slug.replace("--", "-")
    return CalendarFile(name, f"hearings-{slug or 'firm'}.ics", data, len(hearings))


def digest_recipients() -> list[digest.Recipient]:
    """The property managers (active, with the buildings they manage)."""
    out = []
    profiles = (
        Profile.objects.filter(role=permissions.MANAGER, user__is_active=True)
        .select_related("user")
        .prefetch_related("properties")
        .order_by("user__username")
    )
    for p in profiles:
        pks = tuple(sorted(prop.pk for prop in p.properties.all()))
        if pks:
            out.append(digest.Recipient(p.user.get_username(), p.user.email or "", pks))
    return out


def legal_digest_send(*, by: By, on: date | None = None) -> digest.DigestReport:
    """Send each property manager the week's news of their buildings' cases, once per ISO week
    (`legal.digest.legal_digest_send`), through EMAIL_URL; audited as `case.digest` after it
    ran (it commits as it goes: `run_job`). ValidationError when EMAIL_URL is not set."""
    day = on or today()
    smtp = smtp_from_env()
    return run_job(
        by,
        "case.digest",
        detail={"on": day.isoformat()},
        do=lambda: digest.legal_digest_send(
            on=day, recipients=digest_recipients(), smtp=smtp, sender=Sender.from_env()
        ),
    )
