"""The subscriptions to reports (arrears.reports: `Subscription`, sent by `reports.delivery`):
add one, pause, resume or change its recipients, remove it, list them, and send those due; the
one door of `arrears subscription`, the page /reports/subscriptions/ and the API.

Who: an admin or a controller subscribes anyone (`subscription.others`); any other user who
may read reports (`report.view`) subscribes themselves only, and changes or removes only a
subscription that goes to them alone. A recipient is an active user whose role may read
reports. The send is the company's (a coordinator, a controller, an admin, or the operator's
scheduled job: `arrears subscription send`, `arrears run --subscriptions`).

At the send each recipient gets the report as they would read it (`acts_reports.report_read`
as that user: a manager's holds their buildings' accounts only). A recipient who may no longer
read it (deactivated, removed, a role that may not) is skipped and reported; what was sent stays
recorded. Every act is audited (`subscription.add`, `.change`, `.remove`, `.send`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from arrears.access import permissions
from arrears.access.acting import By, run_act, run_job
from arrears.access.acts_reports import report_read
from arrears.access.errors import ForbiddenError
from arrears.access.models import Profile
from arrears.access.selectors import authorize, profile_of
from arrears.access.services import SystemActor
from arrears.core.dates import today
from arrears.core.errors import NotFoundError, ValidationError
from arrears.correspondence.mail_message import Sender
from arrears.correspondence.smtp import smtp_from_env
from arrears.reports import delivery, registry, schedules
from arrears.reports.models import SUBSCRIPTION_FORMATS, Subscription, SubscriptionSend

READERS = permissions.verbs()["report.view"]
permissions.register("subscription.add", READERS)
permissions.register("subscription.change", READERS)
permissions.register("subscription.remove", READERS)
permissions.register("subscription.others", [permissions.CONTROLLER, permissions.ADMIN])
permissions.register(
    "subscription.send", [permissions.COORDINATOR, permissions.CONTROLLER, permissions.ADMIN]
)
RECIPIENTS_LIMIT = 50


def _for_others(by: By, usernames: Sequence[str], verb: str) -> None:
    """ForbiddenError unless the actor acts for themselves alone, or may for anyone."""
    if isinstance(by.actor, SystemActor):
        return
    if list(usernames) == [by.actor.get_username()]:
        return
    profile = profile_of(by.actor)
    if profile is None or not permissions.allowed(profile.role, "subscription.others"):
        raise ForbiddenError(
            _("the role {role} may subscribe only themselves ({verb})"),
            code="subscription_others",
            role=profile.role if profile else "-",
            verb=verb,
        )


def _may_read(username: str) -> str:
    """Why `username` may not receive a report ("" when they may): unknown, inactive, no role,
    or a role that may not read reports."""
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        return "unknown"
    if not user.is_active:
        return "inactive"
    profile = Profile.objects.filter(user=user).first()
    if profile is None:
        return "no_role"
    if not permissions.allowed(profile.role, "report.view"):
        return "role"
    return ""


def _recipients(names: Sequence[str]) -> list[str]:
    """The recipients named, checked (ValidationError on the first who may not read reports)."""
    wanted = sorted({n.strip() for n in names if n.strip()})
    if not wanted:
        raise ValidationError(
            _("a subscription goes to at least one user"), code="subscription_to", field="to"
        )
    if len(wanted) > RECIPIENTS_LIMIT:
        raise ValidationError(
            _("a subscription goes to at most {limit} users"),
            code="subscription_to_many",
            limit=RECIPIENTS_LIMIT,
            field="to",
        )
    for name in wanted:
        why = _may_read(name)
        if why:
            raise ValidationError(
                _("{user} may not receive reports (no active user of a role that reads them)"),
                code="subscription_recipient",
                user=name[:150],
                reason=why,
                field="to",
            )
    return wanted


def _every(text: str) -> schedules.Every:
    try:
        return schedules.every_parse(text)
    except schedules.ScheduleError:
        raise ValidationError(
            _(
                "not a schedule: {every} (daily, weekly:mon … weekly:sun, monthly:1 … monthly:28, "
                "monthly:last)"
            ),
            code="subscription_every",
            every=text[:40],
            field="every",
        ) from None


def subscription_add(
    *,
    by: By,
    report: str,
    recipients: Sequence[str],
    every: str,
    format: str,
    report_by: str | None = None,
) -> Subscription:
    """Subscribe `recipients` to the report `report` (a name of `reports.registry`), sent
    `every` (a schedule of `reports.schedules`) as a file of `format`, grouped by `report_by`.

    Raises ValidationError (an unknown report, a grouping it has not, a schedule or format that
    is none, a recipient who may not read reports), ForbiddenError (someone else, subscribed by
    one who may not)."""
    found = registry.spec(report)
    day = today()
    registry.check(
        found,
        registry.Ask(as_of=day, date_from=day if found.period else None, by=report_by or None),
    )
    schedule = _every(every)
    if format not in SUBSCRIPTION_FORMATS:
        raise ValidationError(
            _("a report cannot be sent as {format} (formats: {formats})"),
            code="report_format",
            format=format[:10],
            formats=", ".join(SUBSCRIPTION_FORMATS),
            field="format",
        )
    names = _recipients(recipients)

    def do(_account: Any) -> Subscription:
        _for_others(by, names, "subscription.add")
        return Subscription.objects.create(
            report=found.name,
            recipients=names,
            every=str(schedule),
            format=format,
            by=report_by or "",
            created_by=by.name,
            created_at=timezone.now(),
            created_on=day,
        )

    detail = {"report": found.name, "to": names, "every": str(schedule), "format": format}
    if report_by:
        detail["by"] = report_by
    return run_act(by, "subscription.add", detail=detail, do=do)


def _mine(actor: Any, s: Subscription) -> bool:
    """Whether `actor` sees `s`: anyone's for the company's (the operator, an admin, a
    controller), else those that go to them."""
    if isinstance(actor, SystemActor):
        return True
    profile = profile_of(actor)
    if profile is not None and permissions.allowed(profile.role, "subscription.others"):
        return True
    return actor.get_username() in s.recipients


def _get(by: By, subscription_id: int, verb: str) -> Subscription:
    """The subscription, locked, once `by` may change it: NotFoundError for one they may not
    see, ForbiddenError for one that also goes to others."""
    s = Subscription.objects.select_for_update().filter(pk=subscription_id).first()
    if s is None or not _mine(by.actor, s):
        raise NotFoundError(
            _("no subscription {id}"), code="subscription_unknown", id=subscription_id
        )
    _for_others(by, s.recipients, verb)
    return s


def subscription_change(
    *,
    by: By,
    subscription_id: int,
    active: bool | None = None,
    recipients: Sequence[str] | None = None,
) -> Subscription:
    """Pause (`active=False`) or resume (`active=True`) a subscription, or change who gets it.
    Raises NotFoundError, ForbiddenError, ValidationError (a removed subscription resumed, a
    recipient who may not read reports)."""
    names = _recipients(recipients) if recipients is not None else None

    def do(_account: Any) -> Subscription:
        s = _get(by, subscription_id, "subscription.change")
        if s.removed_at is not None:
            raise ValidationError(
                _("subscription {id} was removed"), code="subscription_removed", id=s.pk
            )
        if names is not None:
            _for_others(by, names, "subscription.change")
            s.recipients = names
        if active is not None:
            s.active = active
        s.save(update_fields=["recipients", "active"])
        return s

    detail: dict[str, Any] = {"subscription": subscription_id}
    if active is not None:
        detail["active"] = active
    if names is not None:
        detail["to"] = names
    return run_act(by, "subscription.change", detail=detail, do=do)


def subscription_remove(*, by: By, subscription_id: int) -> Subscription:
    """Remove a subscription: it sends no more; its row and its sends are kept."""

    def do(_account: Any) -> Subscription:
        s = _get(by, subscription_id, "subscription.remove")
        if s.removed_at is None:
            s.active, s.removed_at = False, timezone.now()
            s.save(update_fields=["active", "removed_at"])
        return s

    return run_act(by, "subscription.remove", detail={"subscription": subscription_id}, do=do)


@dataclass(frozen=True)
class Listed:
    """A subscription as the list shows it: its next send (None: paused or removed) and its
    last sends (the latest first)."""

    subscription: Subscription
    next_on: date | None
    last: list[SubscriptionSend]

    def as_json(self) -> dict[str, Any]:
        s = self.subscription
        return {
            "id": s.pk,
            "report": s.report,
            "to": s.recipients,
            "every": s.every,
            "format": s.format,
            "by": s.by or None,
            "active": s.active,
            "removed": s.removed_at is not None,
            "created_by": s.created_by,
            "created_on": s.created_on.isoformat(),
            "next_send": self.next_on.isoformat() if self.next_on else None,
            "last_sends": [
                {
                    "user": r.username,
                    "period": r.period,
                    "sent_at": r.sent_at.isoformat() if r.sent_at else None,
                    "error": r.error,
                }
                for r in self.last
            ],
        }


LAST_SENDS = 5


def subscriptions_list(
    *, actor: Any, removed: bool = False, on: date | None = None
) -> list[Listed]:
    """The subscriptions `actor` sees (see `_mine`), the newest first; `removed`: those removed
    too. Their next send is counted from `on` (today)."""
    if not isinstance(actor, SystemActor):
        authorize(actor, "report.view")
    day = on or today()
    rows = Subscription.objects.order_by("-id")
    if not removed:
        rows = rows.filter(removed_at__isnull=True)
    out = []
    for s in rows:
        if _mine(actor, s):
            out.append(_listed(s, day))
    return out


def _listed(s: Subscription, on: date) -> Listed:
    last = list(s.sends.order_by("-reserved_at", "-id")[:LAST_SENDS])
    return Listed(s, _next_send(s, on), last)


def _next_send(s: Subscription, on: date) -> date | None:
    """The next day it sends (None: paused or removed): `on` when due and not yet sent to
    every recipient this period, else this period's occasion to come, else the next period's."""
    if not s.active:
        return None
    every = schedules.every_parse(s.every)
    key = schedules.period_key(every, on)
    done = set(s.sends.filter(period=key, sent_at__isnull=False).values_list("username", flat=True))
    if set(s.recipients) <= done:
        return schedules.next_occasion(every, schedules.period_after(every, on), since=s.created_on)
    if schedules.is_due(every, on, since=s.created_on):
        return on
    return schedules.next_occasion(every, on, since=s.created_on)


def _dues(on: date) -> tuple[list[delivery.Due], list[dict[str, Any]]]:
    """The subscriptions due on `on`, each with its recipients who still may (rendered as
    themselves), and the lines of those skipped."""
    users = get_user_model().objects
    dues, skipped = [], []
    for s in Subscription.objects.filter(active=True).order_by("id"):
        every = schedules.every_parse(s.every)
        if not schedules.is_due(every, on, since=s.created_on):
            continue
        window = schedules.window(every, on)
        found = registry.load().get(s.report)
        due = delivery.Due(
            s, schedules.period_key(every, on), window, (), bool(found and found.period)
        )
        if found is None:  # a report no longer registered (renamed, its module gone)
            skipped += [delivery.line(due, name, reason="unknown_report") for name in s.recipients]
            continue
        recipients: list[delivery.Recipient] = []
        for name in s.recipients:
            why = _may_read(name)
            if why:
                skipped.append(delivery.line(due, name, reason=why))
                continue
            user = users.get(username=name)
            recipients.append(
                delivery.Recipient(name, user.email or "", _renderer(user, s, window, found.period))
            )
        dues.append(replace(due, recipients=tuple(recipients)))
    return dues, skipped


def _renderer(user: Any, s: Subscription, window: schedules.Window, period: bool) -> Any:
    def render() -> Any:
        with translation.override("en"):
            return report_read(
                actor=user,
                name=s.report,
                as_of=window.as_of,
                date_from=window.date_from if period else None,
                by=s.by or None,
            )

    return render


def subscriptions_send(*, by: By, on: date | None = None, dry_run: bool = False) -> Any:
    """Send each subscription due on `on` (today) to each of its recipients who still may read
    it, their report as they read it, once per period (`reports.delivery`), through EMAIL_URL;
    audited as `subscription.send` after it ran (it commits as it goes). A dry run sends and
    records nothing: its report's `due` says what would go. ValidationError when EMAIL_URL is
    not set (unless a dry run)."""
    day = on or today()

    def do() -> delivery.DeliveryReport:
        # In the book's language, whatever a page served last in this thread had switched to.
        with translation.override(settings.LANGUAGE_CODE):
            return send()

    def send() -> delivery.DeliveryReport:
        dues, skipped = _dues(day)
        report = delivery.DeliveryReport(day.isoformat(), skipped=skipped)
        if dry_run:
            for due in dues:
                for r in due.recipients:
                    here = delivery.line(due, r.username)
                    if delivery.sent_already(due, r.username):
                        report.already.append(here)
                    elif not r.email:
                        report.no_email.append(here)
                    else:
                        report.due.append(here)
            return report
        return delivery.subscriptions_deliver(
            on=day,
            dues=dues,
            smtp=smtp_from_env(),
            sender=Sender.from_env(),
            report=report,
            base_url=getattr(settings, "ARREARS_BASE_URL", ""),
        )

    if not dry_run:
        smtp_from_env()  # refused before anything is done
    return run_job(
        by,
        "subscription.send",
        detail={"on": day.isoformat(), **({"dry_run": True} if dry_run else {})},
        do=do,
    )


def subscription_listed(*, actor: Any, subscription_id: int, on: date | None = None) -> Listed:
    """One subscription `actor` sees, as the list shows it; NotFoundError otherwise."""
    if not isinstance(actor, SystemActor):
        authorize(actor, "report.view")
    s = Subscription.objects.filter(pk=subscription_id).first()
    if s is None or not _mine(actor, s):
        raise NotFoundError(
            _("no subscription {id}"), code="subscription_unknown", id=subscription_id
        )
    return _listed(s, on or today())
