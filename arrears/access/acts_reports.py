"""The reports' reads (arrears.reports), for whoever may read them, within their scope: the one
door the command, the pages and the API call.

A report is a read, not an act: nothing is written, not even an audit row. The scope is
`selectors.accounts_visible`'s: coordinators, controllers and admins read the whole book, a
property's manager the accounts of their properties, an attorney or a paralegal the accounts
referred to their firm; the operator (the command with no user named) the whole book.

Grouping by coordinator needs who works each account, which this part owns (assignments and
coverage, `assigned.with_coordinator`: the most specific open assignment wins); the reports part
sits below and may not import it, so the coordinator of each account on the period's last day is
read here, in one query, and handed down as a map of account to user name. Reading the
assignment table with hand-written SQL in `reports` would have been a second statement of the
"most specific assignment wins" rule, to drift from the first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from arrears.access import permissions
from arrears.access.assigned import with_coordinator
from arrears.access.errors import ForbiddenError
from arrears.access.selectors import accounts_visible, authorize, profile_of
from arrears.access.services import SystemActor
from arrears.ledger.models import Account
from arrears.reports import registry
from arrears.reports.document import Document
from arrears.reports.registry import Ask
from arrears.reports.snapshots import Built, coverage
from arrears.reports.snapshots import snapshots_build as _snapshots_build


def _scope(actor: Any) -> QuerySet[Account] | None:
    """The accounts `actor` may read (None: the whole book), once authorized to read reports."""
    if isinstance(actor, SystemActor):
        return None
    authorize(actor, "report.view")
    profile = profile_of(actor)
    if profile is not None and permissions.sees_everything(profile.role):
        return None
    return accounts_visible(actor)


def _coordinators(accounts: QuerySet[Account] | None, on: date) -> dict[int, str]:
    """Each account's coordinator on `on` (user name), for the accounts that have one."""
    annotated = with_coordinator(accounts if accounts is not None else Account.objects.all(), on)
    rows = [
        (pk, user)
        for pk, user in annotated.values_list("pk", "coordinator_pk")  # type: ignore[misc]
        if user is not None
    ]
    names = dict(
        get_user_model()
        .objects.filter(pk__in={u for _, u in rows})
        .values_list("pk", get_user_model().USERNAME_FIELD)
    )
    return {pk: names[user] for pk, user in rows}


def metrics_read(
    *,
    actor: Any,
    date_from: date,
    date_to: date,
    by: str | None = None,
    currency: str | None = None,
) -> dict[str, Any] | list[dict[str, Any]]:
    """The metrics of the period over the accounts `actor` may read (`reports.metrics`), as the
    contract's JSON: one object, or a list of one per currency of those accounts (the `metrics`
    report's data)."""
    doc = report_read(
        actor=actor,
        name="metrics",
        as_of=date_to,
        date_from=date_from,
        by=by,
        currency=currency,
    )
    data: dict[str, Any] | list[dict[str, Any]] = doc.data
    return data


def over_60_read(*, actor: Any, as_of: date, currency: str | None = None) -> dict[str, Any]:
    """The balances more than 60 days past due as of `as_of` over the accounts `actor` may
    read (`reports.over60`; the `over-60` report's data)."""
    data: dict[str, Any] = report_read(
        actor=actor, name="over-60", as_of=as_of, currency=currency
    ).data
    return data


def snapshots_build(
    *,
    actor: Any,
    date_from: date | None = None,
    date_to: date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Built:
    """Build the daily aging snapshots (`reports.snapshots.snapshots_build`): the operator's
    work, or an admin's (derived from the book, which it does not change: nothing audited)."""
    if not isinstance(actor, SystemActor):
        authorize(actor, "report.view")
        profile = profile_of(actor)
        assert profile is not None  # authorize refused a user without one
        if profile.role != permissions.ADMIN:
            raise ForbiddenError(
                _("the role {role} may not do this ({verb})"),
                code="forbidden",
                role=profile.role,
                verb="report.snapshots",
            )
    return _snapshots_build(date_from=date_from, date_to=date_to, progress=progress)


def snapshots_after_run(*, on: date, progress: Callable[[int, int], None] | None = None) -> Built:
    """The daily run's last step (`arrears run`, after the cycle it authorized): the snapshots up
    to the run's day, from the last day built. With none built yet it builds the run's day
    alone: the first run of a large book is not made to build a year (11.7 s at 10,000
    accounts, minutes at 100,000: the run's own target); `arrears report snapshots build
    --from D` builds the past, once, and the metrics read the book where no snapshot is."""
    start = None
    if coverage() is None:
        start = on
    return _snapshots_build(date_from=start, date_to=on, progress=progress)


def report_read(
    *,
    actor: Any,
    name: str,
    as_of: date,
    date_from: date | None = None,
    by: str | None = None,
    currency: str | None = None,
) -> Document:
    """The report NAME (`reports.registry`) over the accounts `actor` may read: the one door of
    `arrears report NAME`, the pages at /reports/NAME/, the API and the subscriptions."""
    found = registry.spec(name)
    ask = Ask(as_of=as_of, date_from=date_from, by=by, currency=currency)
    registry.check(found, ask)
    accounts = _scope(actor)
    reader = None if isinstance(actor, SystemActor) else actor.get_username()
    coordinators = _coordinators(accounts, as_of) if by == "coordinator" else None
    return found.build(replace(ask, accounts=accounts, coordinators=coordinators, reader=reader))
