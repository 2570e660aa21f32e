"""Route of an insurer's remittance (an X12 835 file, arrears.banking.remittance, through
arrears.access.acts_remittance): `POST /api/remittances`, the file uploaded as multipart
`file`. 201 with what was posted, denied and left to follow up; the same file again posts
nothing (its claims counted as already imported); a file that does not read is a 400
`import_invalid` naming each problem's segment and element, and posts nothing."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile

from arrears.access.acts_remittance import remittance_import
from arrears.api.common import ERRORS, by
from arrears.api.schemas import ErrorOut
from arrears.core.files import read_at_most
from arrears.correspondence.uploads import max_upload_bytes

router = Router(tags=["remittances"])


class RemittanceOut(Schema):
    file: str
    claims: int
    posted: int  # claims posted by this upload
    paid: str
    adjusted: str
    patient_responsibility: str
    reversed: str
    already_imported: int  # claims posted by an earlier import of the same remittance
    denials: list[dict[str, Any]]
    follow_up: list[dict[str, Any]]
    provider_adjustments: list[dict[str, Any]]
    holds_released: int


@router.post("/remittances", response={201: RemittanceOut, **ERRORS, 400: ErrorOut, 409: ErrorOut})
def remittance_post(request: HttpRequest, file: File[UploadedFile]) -> Any:
    """Post an 835 remittance file to patient accounts, all or nothing (docs/banking.md)."""
    data = read_at_most(file, max_upload_bytes())
    done = remittance_import(by=by(request), data=data, name=file.name or "upload.835")
    return Status(201, done.as_json())
