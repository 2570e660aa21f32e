"""Routes of the subscriptions to reports (`access.acts_subscriptions`): list them, add one,
pause, resume and remove one, the same as `arrears subscription` and the page
/reports/subscriptions/. The send is the scheduled job's (`arrears subscription send`)."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status

from arrears.access.acts_subscriptions import (
    subscription_add,
    subscription_change,
    subscription_listed,
    subscription_remove,
    subscriptions_list,
)
from arrears.api.common import ERRORS, by

router = Router(tags=["subscriptions"])


class SubscriptionIn(Schema):
    report: str
    to: list[str]
    every: str  # daily, weekly:mon … weekly:sun, monthly:1 … monthly:28, monthly:last
    format: Literal["csv", "xlsx", "pdf", "json"] = "pdf"
    by: str | None = None


class SendOut(Schema):
    user: str
    period: str
    sent_at: str | None
    error: str


class SubscriptionOut(Schema):
    id: int
    report: str
    to: list[str]
    every: str
    format: str
    by: str | None
    active: bool
    removed: bool
    created_by: str
    created_on: str
    next_send: str | None
    last_sends: list[SendOut]


def _one(request: HttpRequest, subscription_id: int) -> dict[str, Any]:
    return subscription_listed(actor=request.user, subscription_id=subscription_id).as_json()


@router.get("/subscriptions", response={200: list[SubscriptionOut], **ERRORS})
def subscriptions_get(request: HttpRequest, all: bool = False) -> Any:
    """The subscriptions the caller sees (an admin's or a controller's: all; anyone else's:
    those that go to them), the newest first; `all`: the removed ones too."""
    return [item.as_json() for item in subscriptions_list(actor=request.user, removed=all)]


@router.post("/subscriptions", response={201: SubscriptionOut, **ERRORS})
def subscriptions_add(request: HttpRequest, body: SubscriptionIn) -> Any:
    """Send a report to users on a schedule, each their report as they would read it."""
    made = subscription_add(
        by=by(request),
        report=body.report,
        recipients=body.to,
        every=body.every,
        format=body.format,
        report_by=body.by,
    )
    return Status(201, _one(request, made.pk))


@router.post("/subscriptions/{subscription_id}/pause", response={200: SubscriptionOut, **ERRORS})
def subscriptions_pause(request: HttpRequest, subscription_id: int) -> Any:
    """Stop sending it until it is resumed."""
    subscription_change(by=by(request), subscription_id=subscription_id, active=False)
    return _one(request, subscription_id)


@router.post("/subscriptions/{subscription_id}/resume", response={200: SubscriptionOut, **ERRORS})
def subscriptions_resume(request: HttpRequest, subscription_id: int) -> Any:
    """Send it again from its next occasion."""
    subscription_change(by=by(request), subscription_id=subscription_id, active=True)
    return _one(request, subscription_id)


class RecipientsIn(Schema):
    to: list[str]


@router.post(
    "/subscriptions/{subscription_id}/recipients", response={200: SubscriptionOut, **ERRORS}
)
def subscriptions_recipients(request: HttpRequest, subscription_id: int, body: RecipientsIn) -> Any:
    """Change who gets it, from its next send; its sends so far are kept."""
    subscription_change(by=by(request), subscription_id=subscription_id, recipients=body.to)
    return _one(request, subscription_id)


@router.post("/subscriptions/{subscription_id}/remove", response={200: SubscriptionOut, **ERRORS})
def subscriptions_remove(request: HttpRequest, subscription_id: int) -> Any:
    """Remove it: it sends no more; its sends are kept."""
    subscription_remove(by=by(request), subscription_id=subscription_id)
    return _one(request, subscription_id)
