"""Helpers shared by the API's routers: the error responses, an audited change (from the caller's
address: `access.addresses.client_ip`, as the pages read it), dates, a timeline row's shape."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from arrears.access import acts
from arrears.access.addresses import client_ip
from arrears.access.services import act
from arrears.api.schemas import ErrorOut
from arrears.core.dates import today
from arrears.core.errors import ValidationError
from arrears.ledger.models import Account, TimelineEvent

T = TypeVar("T")

ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut, 503: ErrorOut}
EARLIEST, LATEST = date(1900, 1, 1), date(2200, 12, 31)


def api_act(
    request: HttpRequest,
    verb: str,
    *,
    account_id: str | None = None,
    detail: dict[str, Any],
    do: Callable[[Account | None], T],
) -> T:
    """`access.services.act` for a route: the request's user, from its address, via the API."""
    return act(
        user=request.user,
        verb=verb,
        via="api",
        account_id=account_id,
        ip=client_ip(request),
        detail=detail,
        do=do,
    )


def by(request: HttpRequest) -> acts.By:
    """The request's user acting through the API, from its address."""
    return acts.By(request.user, "api", client_ip(request))


def day(value: date | None) -> date:
    """The date asked for (today if none); ValidationError outside 1900-2200, where date
    arithmetic (buckets, deadlines) would leave the calendar."""
    if value is None:
        return today()
    if not EARLIEST <= value <= LATEST:
        raise ValidationError(
            _("{date} is outside {earliest}-{latest}"),
            code="date_out_of_range",
            date=value.isoformat(),
            earliest=EARLIEST.year,
            latest=LATEST.year,
        )
    return value


def event_out(e: TimelineEvent) -> dict[str, Any]:
    """A timeline row as the API shows it (`EventOut`)."""
    return {
        "id": e.pk,
        "at": e.at,
        "on": e.on,
        "kind": e.kind,
        "actor": e.actor,
        "summary": e.summary,
        "detail": e.detail,
    }
