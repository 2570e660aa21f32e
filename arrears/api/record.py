"""Routes of the account's record kept up to date: a party's contact points (`PATCH` or `POST
/api/parties/{party_id}`), consent to texts and autodialled calls (`POST
/api/parties/{party_id}/consents`, `…/consents/withdraw`), and a document added to an
account's history (`POST /api/accounts/{account_id}/documents`, multipart). Each calls one act
of `arrears.access.acts`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import File, Form, Router, Schema, Status, UploadedFile

from arrears.access import acts
from arrears.api.actions import router as actions_router
from arrears.api.common import ERRORS, by
from arrears.api.schemas import ErrorOut
from arrears.core.errors import ValidationError
from arrears.correspondence.uploads import max_upload_bytes
from arrears.dunning.models import Consent
from arrears.ledger.models import Party

router = Router(tags=["record"])
WRITES: dict[int, Any] = {**ERRORS, 400: ErrorOut}


class PartyIn(Schema):
    """The contact points to change; a field left out is unchanged, an empty one cleared."""

    email: str | None = None
    phone: str | None = None
    address: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None
    language: str | None = None
    timezone: str | None = None


class PartyOut(Schema):
    party_id: str
    name: str
    email: str
    phone: str
    address: str
    city: str
    state: str
    postal_code: str
    country: str
    language: str
    timezone: str
    changed: dict[str, list[str]]
    returned_mail_cleared: bool


class ConsentIn(Schema):
    channel: str  # sms or autodial
    how: str  # written, verbal, web (a withdrawal also: reply)
    words: str = ""
    at: datetime | None = None  # when the party gave it (aware); default now


class ConsentOut(Schema):
    party_id: str
    channel: str
    granted: bool
    at: datetime
    how: str
    words: str
    recorded_by: str


def _party_out(party: Party, changed: dict[str, tuple[str, str]], cleared: bool) -> dict[str, Any]:
    fields = ("party_id", "name", "email", "phone", "address", "city", "state", "postal_code")
    return {
        **{f: getattr(party, f) for f in fields},
        "country": party.country,
        "language": party.language,
        "timezone": party.timezone,
        "changed": {k: list(v) for k, v in changed.items()},
        "returned_mail_cleared": cleared,
    }


def _party_change(request: HttpRequest, party_id: str, body: PartyIn) -> Any:
    done = acts.party_update(by=by(request), party_id=party_id, changes=body.dict())
    return Status(200, _party_out(done.party, done.changed, done.returned_mail_cleared))


@router.patch("/parties/{party_id}", response={200: PartyOut, **WRITES})
def party_patch(request: HttpRequest, party_id: str, body: PartyIn) -> Any:
    """Change a party's contact points; the old values go on its accounts' timelines."""
    return _party_change(request, party_id, body)


@router.post("/parties/{party_id}", response={200: PartyOut, **WRITES})
def party_post(request: HttpRequest, party_id: str, body: PartyIn) -> Any:
    """The same as PATCH, for clients that only POST."""
    return _party_change(request, party_id, body)


def _consent_out(consent: Consent, party_id: str) -> dict[str, Any]:
    return {
        "party_id": party_id,
        "channel": consent.channel,
        "granted": consent.granted,
        "at": consent.at,
        "how": consent.how,
        "words": consent.words,
        "recorded_by": consent.recorded_by,
    }


def _aware(at: datetime | None) -> datetime | None:
    if at is not None and at.tzinfo is None:
        raise ValidationError(
            _("at: a time with its offset (2026-03-01T10:00:00-05:00)"), code="invalid", field="at"
        )
    return at


@router.post("/parties/{party_id}/consents", response={201: ConsentOut, **WRITES})
def consent_post(request: HttpRequest, party_id: str, body: ConsentIn) -> Any:
    """Record a party's consent to texts or autodialled calls (47 USC §227(b)(1)(A))."""
    consent = acts.consent_grant(
        by=by(request),
        party_id=party_id,
        channel=body.channel,
        how=body.how,
        words=body.words,
        at=_aware(body.at),
    )
    return Status(201, _consent_out(consent, party_id))


@router.post("/parties/{party_id}/consents/withdraw", response={201: ConsentOut, **WRITES})
def consent_withdraw_post(request: HttpRequest, party_id: str, body: ConsentIn) -> Any:
    """Record that a party withdrew consent (any reasonable means: 47 CFR §64.1200(a)(10))."""
    consent = acts.consent_withdraw(
        by=by(request),
        party_id=party_id,
        channel=body.channel,
        how=body.how,
        words=body.words,
        at=_aware(body.at),
    )
    return Status(201, _consent_out(consent, party_id))


class DocumentAddedOut(Schema):
    name: str  # as `GET /api/accounts/{account_id}/documents` lists it
    sha256: str
    content_type: str
    size: int
    filename: str
    added: bool  # False: this very file was on the account's history already


# On the actions' router, which has the GET of the same path (one path, one router in Ninja).
@actions_router.post(
    "/accounts/{account_id}/documents",
    response={201: DocumentAddedOut, 200: DocumentAddedOut, **WRITES},
)
def document_post(
    request: HttpRequest,
    account_id: str,
    file: File[UploadedFile],
    title: Form[str],
    kind: Form[str] = "other",
) -> Any:
    """Add a file (multipart: `file`, `title`) to the account's history: a PDF, a PNG or JPEG
    image or an email (.eml), its type read from its bytes; archived once by its SHA-256. `kind`
    says what it is for the referral checklist (lease, proof_of_service…; default other)."""
    data = file.read(max_upload_bytes() + 1)
    added = acts.document_add(
        by=by(request),
        account_id=account_id,
        data=data,
        filename=file.name or "",
        title=title,
        kind=kind,
    )
    d = added.document
    out = {
        "name": d.name,
        "sha256": d.sha256,
        "content_type": d.content_type,
        "size": d.size,
        "filename": added.filename,
        "added": added.event is not None,
    }
    return Status(201 if added.event is not None else 200, out)
