"""Routes of the letters batch: print the day's letters (each re-checked as it goes out) as the
CLI's `arrears letters batch` and the letters page do, through the same service
(`dunning.reissue.letters_print`); the print file and manifest are archived, named in the answer.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from arrears.api.common import ERRORS, api_act, day
from arrears.api.schemas import ErrorOut
from arrears.dunning.reissue import letters_print

router = Router(tags=["letters"])


class BatchIn(Schema):
    on: date | None = None


class CancelledOut(Schema):
    id: int
    key: str
    account_id: str
    rule: str
    reason: str


class BatchOut(Schema):
    date: date
    batch: int | None
    resumed: bool
    letters: list[int]
    print_file: str
    manifest: str
    cancelled: list[CancelledOut]


@router.post("/letters/batch", response={200: BatchOut, **ERRORS, 400: ErrorOut})
def letters_batch_post(request: HttpRequest, body: BatchIn) -> Any:
    """Print the letters queued up to `on` (default today): those no longer due are cancelled
    with their reason, the others dated `on` with their figures of that day; a batch a crash
    left open is finished first. The print file and manifest are archived (`print_file`,
    `manifest`: archive names)."""
    on = day(body.on)
    actor = request.user.get_username()

    def do(_a: Any) -> dict[str, Any]:
        with tempfile.TemporaryDirectory() as folder:
            return letters_print(on=on, output=Path(folder), actor=actor, workers=1).as_json()

    return api_act(request, "letters.manage", detail={"batch": on.isoformat()}, do=do)
