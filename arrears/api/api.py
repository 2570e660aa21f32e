"""The REST API, mounted at /api/: bearer-token auth, one error shape, the parts' routers.

Every route is authenticated by a token (`arrears user token NAME`), authorized and scoped by
`arrears.access` (the same selectors as the web pages), and every change goes through
`access.services.act`, which writes its audit row. Errors, whatever raised them, are
`{"code", "message", "extra"}` with the matching HTTP status.

A part adds its routes as a ninja `Router` in its own module here (`arrears/api/<part>.py`) and
names it in ROUTERS below (a one-line change).
"""

from __future__ import annotations

import importlib
import json
from typing import Any

from django.db import OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import translation
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer

from arrears.access.addresses import client_ip
from arrears.access.services import token_user
from arrears.core.busy import busy_error
from arrears.core.errors import DomainError

STATUS = {
    "not_found": 404,
    "forbidden": 403,
    "unauthenticated": 401,
    "locked": 429,
    "invalid": 422,
    "guard_refused": 409,
    "notice_not_in_policy": 409,
    "merge_field_missing": 422,
    "run_in_progress": 409,
    "no_worker": 503,
    "no_chunk_done": 503,
    "no_broker": 503,
    "no_batch_done": 503,
    "mail_fetch_busy": 409,
    "database_busy": 503,
    "period_closed": 409,
    "promise_needs_confirmation": 409,
    "notice_needs_confirmation": 409,
    "deposit_refused": 409,
    # a refund larger than the credit it would pay out: the book changed since the proposal (a
    # new charge); the next listing revises it (arrears.ledger.posting.RefundAboveCreditError)
    "refund_above_credit": 409,
    # a payment's reference (or Idempotency-Key) posted already to another account or amount:
    # arrears.ledger.payments.ReferenceReusedError
    "reference_reused": 409,
    # a bank line of the review queue decided already, or a return offered a payment's
    # decision (LineDecidedError of the banking services)
    "bank_line_decided": 409,
    "bank_line_is_return": 409,
}

ROUTERS = [
    "arrears.api.accounts",
    "arrears.api.payments",
    "arrears.api.remittances",
    "arrears.api.bank",
    "arrears.api.book",
    "arrears.api.actions",
    "arrears.api.letters",
    "arrears.api.audit",
    "arrears.api.periods",
    "arrears.api.record",
    "arrears.api.assignments",
    "arrears.api.moveout",
    "arrears.api.refunds",
    "arrears.api.legal",
    "arrears.api.settlements",
    "arrears.api.reports",
    "arrears.api.subscriptions",
    "arrears.api.goals",
]


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = token_user(token, ip=client_ip(request))
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="Arrears API",
    version="1",
    description="Accounts, ledgers, aging, timelines, holds, notes, imports, the daily run and "
    "the worklist. Authenticate with `Authorization: Bearer <token>` (`arrears user token NAME`). "
    'Money is a string with two decimals. Errors are {"code", "message", "extra"}.',
    auth=BearerToken(),
    openapi_url="/openapi.json",
    docs_url="/docs",
    urls_namespace="api",
)


def error(
    request: HttpRequest, status: int, code: str, message: str, extra: dict[str, Any] | None = None
) -> HttpResponse:
    return api.create_response(
        request, {"code": code, "message": message, "extra": extra or {}}, status=status
    )


@api.exception_handler(DomainError)
def _domain(request: HttpRequest, exc: DomainError) -> HttpResponse:
    # The kind of error picks the status; the specific code and the facts are the client's to
    # switch on, the message is English as every API message is, whatever the Accept-Language.
    with translation.override("en"):
        message = exc.message
        extra = json.loads(json.dumps(exc.extra, default=str))
    return error(request, STATUS.get(exc.kind, 400), exc.code, message, extra)


@api.exception_handler(UnicodeEncodeError)
def _not_text(request: HttpRequest, exc: UnicodeEncodeError) -> HttpResponse:
    # JSON can escape half of a UTF-16 pair ("\ud800"), which no database stores: the write
    # fails as a whole (its transaction rolls back) and the caller is told why.
    return error(
        request,
        422,
        "invalid_text",
        "a text holds a lone surrogate (half of a UTF-16 pair), which is not text: send UTF-8",
    )


@api.exception_handler(OperationalError)
def _busy(request: HttpRequest, exc: OperationalError) -> HttpResponse:
    busy = busy_error(exc)
    if busy is None:
        raise exc
    response = _domain(request, busy)
    response["Retry-After"] = str(busy.extra["retry_after"])
    return response


@api.exception_handler(MultiPartParserError)
def _not_multipart(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
    # A body that says it is multipart and is not (no boundary, a broken part): the client's
    # fault, answered as every API error is, not by Django's HTML 400 (found by `make fuzz-api`
    # on the document upload).
    return error(request, 400, "invalid_body", f"the multipart body cannot be read: {exc}")


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error(request, 401, "unauthenticated", "a valid bearer token is needed")


@api.exception_handler(NinjaValidationError)
def _invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = json.loads(json.dumps(exc.errors, default=str))
    first = errors[0] if errors else {}
    where = ".".join(str(p) for p in first.get("loc", []))
    return error(
        request,
        422,
        "invalid",
        f"{where}: {first.get('msg', 'invalid')}".strip(": "),
        {"errors": errors},
    )


@api.exception_handler(HttpError)
def _http(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = {401: "unauthenticated", 403: "forbidden", 404: "not_found"}.get(
        exc.status_code, "error"
    )
    return error(request, exc.status_code, code, str(exc))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error(request, 404, "not_found", str(exc) or "not found")


for _module in ROUTERS:
    api.add_router("/", importlib.import_module(_module).router)
