"""Closed periods: months a controller has closed, so that what the book says of them stays said.

Once a month's figures are reported (its aging, its statements, the owner's report), an entry
dated in it, a reversal of a September payment imported in November, would change them without
a word. A controller closes the month; from then on nothing is written dated in it: an import's
row is refused (or posted on the first open day, `--into-open-period`), the daily run refuses a
date in it, a dispute's credit dated in it is refused. The rules (docs/ledger-interchange.md,
project notes):

- the book is closed *through* a day, the last day of a month, or not at all, as the "closing
  date" or "lock date" of most accounting software: closing a month closes every day before it
  too, since an entry dated in August would change September's aging as well;
- a month closes only once it has ended (its last day before the book's today), and months
  close in order: the first close may name any month that has ended, each later one the month
  after the last one closed;
- months reopen from the latest closed one, with a reason: a reopening puts the book back where
  it stood before that month was closed;
- every close and reopening is a `PeriodEvent` row, never changed, with who and when; the latest
  row says where the book stands (`closed_through`). The adapters write the act's audit row.

Writers read `closed_through()` after taking the book's write lock (`bulk.write_lock`), which a
close and a reopening take too: a month cannot close under an import half-written.

This module holds the periods' services and selectors.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from arrears.core import dates
from arrears.core.dates import add_months, month_end, month_start
from arrears.core.errors import DomainError, ValidationError
from arrears.ledger import bulk
from arrears.ledger.models import PeriodEvent, Transaction

REASON_LIMIT = 500


class PeriodClosedError(DomainError):
    """An entry dated in a closed month, or a close or reopening out of order."""

    code = "period_closed"


def label(day: date) -> str:
    """`YYYY-MM` of `day`'s month."""
    return f"{day.year:04d}-{day.month:02d}"


def parse_month(text: str) -> date:
    """The first day of the month `YYYY-MM`; ValidationError for anything else."""
    try:
        return dates.parse_month(text)
    except ValueError:
        # The class's code, "invalid", is the API's answer for a month it cannot read.
        raise ValidationError(
            _("not a month (YYYY-MM): {text!r}"), field="month", text=text[:20]
        ) from None


def closed_through() -> date | None:
    """The last day of the last closed month, or None when no month is closed: every entry dated
    on or before it is final. One query."""
    return PeriodEvent.objects.order_by("-id").values_list("closed_through", flat=True).first()


def first_open_day(through: date | None) -> date | None:
    """The first day after the closed months (None when none is closed)."""
    return None if through is None else through + timedelta(days=1)


def closed_error(day: date, through: date, what: str | Promise) -> PeriodClosedError:
    """The refusal of `what`, dated `day` on or before `through`."""
    return PeriodClosedError(
        _(
            "{month} is closed (the book is closed through {through}): {what} dated {on} would "
            "change it; a controller reopens the month or it is dated {first_open} or later"
        ),
        month=label(day),
        closed_through=through.isoformat(),
        on=day.isoformat(),
        through=label(through),
        what=what,
        first_open=first_open_day(through),
    )


def ensure_open(days: Iterable[date], *, what: str | Promise) -> None:
    """Raise PeriodClosedError when any of `days` is in a closed month. Call it inside the
    writer's transaction, after the book's write lock."""
    through = closed_through()
    if through is None:
        return
    early = min((d for d in days if d <= through), default=None)
    if early is not None:
        raise closed_error(early, through, what)


def period_list() -> list[PeriodEvent]:
    """Every close and reopening, the latest first."""
    return list(PeriodEvent.objects.order_by("-id"))


@transaction.atomic
def period_close(*, month: date, actor: str, on: date) -> PeriodEvent:
    """Close `month` (its first day), on `on` (the book's today), by `actor`.

    Raises PeriodClosedError when the month has not ended yet, is already closed, or is not the
    month after the last one closed.
    """
    month = month_start(month)
    bulk.write_lock(Transaction._meta.db_table)
    through = closed_through()
    last = month_end(month)
    if last >= on:
        raise PeriodClosedError(
            _("{month} has not ended: a month closes once its last day ({last}) is past"),
            month=label(month),
            last=last,
        )
    if through is not None and last <= through:
        raise PeriodClosedError(
            _("{month} is already closed (the book is closed through {through})"),
            month=label(month),
            through=label(through),
        )
    if through is not None and month != first_open_day(through):
        following = label(add_months(month_start(through), 1))
        raise PeriodClosedError(
            _(
                "months close in order: close {following} first (the book is closed through "
                "{through})"
            ),
            month=label(month),
            following=following,
            through=label(through),
        )
    return _record(month, PeriodEvent.Kind.CLOSE, last, actor)


@transaction.atomic
def period_reopen(*, month: date, actor: str, reason: str) -> PeriodEvent:
    """Reopen `month`, the latest closed one, for `reason`; the book is then closed through
    where it stood before that month was closed (the month before, or nothing).

    Raises ValidationError without a reason, PeriodClosedError when the month is not the latest
    closed one.
    """
    month = month_start(month)
    reason = reason.strip()
    if not reason:
        raise ValidationError(
            _("say why the month is reopened"), code="reopen_reason_missing", field="reason"
        )
    if len(reason) > REASON_LIMIT:
        raise ValidationError(
            _("a reason of at most {limit} characters"),
            code="reopen_reason_too_long",
            field="reason",
            limit=REASON_LIMIT,
        )
    bulk.write_lock(Transaction._meta.db_table)
    through = closed_through()
    if through is None or month > through:
        raise PeriodClosedError(
            _("{month} is not closed (the book is closed through {through})")
            if through
            else _("{month} is not closed"),
            month=label(month),
            through=label(through) if through else None,
        )
    if month != month_start(through):
        raise PeriodClosedError(
            _("months reopen from the latest closed: reopen {through} first"),
            month=label(month),
            through=label(through),
        )
    closing = PeriodEvent.objects.filter(month=month, kind=PeriodEvent.Kind.CLOSE).latest("id")
    before = (
        PeriodEvent.objects.filter(id__lt=closing.pk)
        .order_by("-id")
        .values_list("closed_through", flat=True)
        .first()
    )
    return _record(month, PeriodEvent.Kind.REOPEN, before, actor, reason)


def _record(
    month: date, kind: str, through: date | None, actor: str, reason: str = ""
) -> PeriodEvent:
    return PeriodEvent.objects.create(
        month=month,
        kind=kind,
        closed_through=through,
        at=timezone.now(),
        actor=actor[:150],
        reason=reason,
    )
