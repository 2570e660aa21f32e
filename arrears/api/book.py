"""Routes over the whole book: aging, the worklist, search, imports and the daily run."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import File, Query, Router, Status
from ninja.files import UploadedFile

from arrears.access import acts
from arrears.access.selectors import (
    account_search,
    aging_visible,
    authorize,
    currencies_visible,
    worklist_scope,
    worklist_visible,
)
from arrears.api.common import ERRORS, by, day
from arrears.api.schemas import (
    HitOut,
    ImportOut,
    RunIn,
    WorkItemOut,
    WorklistDismissIn,
    WorklistSetAsideOut,
    WorklistSnoozeIn,
)
from arrears.core.errors import ValidationError
from arrears.ledger.aging import Buckets
from arrears.ledger.interchange.mapping import builtin_names
from arrears.ledger.selectors import aging_json

router = Router(tags=["book"])


@router.get("/aging", response={200: dict[str, Any] | list[dict[str, Any]], **ERRORS})
def aging(
    request: HttpRequest,
    as_of: date | None = None,
    by: Literal["account", "property", "portfolio"] = "property",
) -> Any:
    """The aging of the accounts the caller may see: the spec's object (empty when nothing is
    open), or a list of one per currency when those accounts are in several."""
    authorize(request.user, "portfolio.view")
    on = day(as_of)
    return aging_json(
        aging_visible(request.user, as_of=on, by=by),
        as_of=on,
        by=by,
        buckets=Buckets(),
        currencies=currencies_visible(request.user),
    )


@router.get("/worklist", response={200: list[WorkItemOut], **ERRORS})
def worklist_get(
    request: HttpRequest,
    date: date | None = None,
    mine: bool = False,
    user: str = Query("", max_length=150),
    unassigned: bool = False,
) -> Any:
    """The day's worklist over the caller's accounts, most expected recovery first; `mine`:
    only the caller's own accounts (and those they cover for that day), `user`: one user's,
    `unassigned`: the accounts assigned to no one."""
    authorize(request.user, "worklist.view")
    on = day(date)
    work = worklist_visible(request.user, on=on)
    kind = "user" if user else "mine" if mine else "unassigned" if unassigned else "everyone"
    scope = worklist_scope(request.user, on=on, kind=kind, username=user)
    return [w.as_json() for w in scope.lines(request.user, work, on)]


@router.post("/worklist/snooze", response={201: WorklistSetAsideOut, **ERRORS})
def worklist_snooze(request: HttpRequest, body: WorklistSnoozeIn) -> Any:
    """Put a line of the day's worklist off until a day, saying why (a call or text task's line
    is named by its `action_id`)."""
    row = acts.worklist_snooze(
        by=by(request),
        account_id=body.account_id,
        kind=body.kind,
        until=day(body.until),
        reason=body.reason,
        action_id=body.action_id,
    )
    return Status(201, _set_aside_out(row, body.account_id))


@router.post("/worklist/dismiss", response={201: WorklistSetAsideOut, **ERRORS})
def worklist_dismiss(request: HttpRequest, body: WorklistDismissIn) -> Any:
    """Take a line off the worklist while its reason stands, saying why."""
    row = acts.worklist_dismiss(
        by=by(request),
        account_id=body.account_id,
        kind=body.kind,
        reason=body.reason,
        action_id=body.action_id,
    )
    return Status(201, _set_aside_out(row, body.account_id))


def _set_aside_out(row: Any, account_id: str) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "kind": row.kind,
        "action_id": row.action_id,
        "until": row.until.isoformat() if row.until else None,
        "reason": row.reason,
        "on": row.on.isoformat(),
        "by": row.by,
    }


@router.get("/search", response={200: list[HitOut], **ERRORS})
def search(request: HttpRequest, q: str = Query(..., max_length=200)) -> Any:
    """Accounts by id, unit, a party's name (accents and case aside), email or phone, or an
    amount, each with its balance and stage."""
    authorize(request.user, "search")
    return [
        {**h.__dict__, "balance": None if h.balance is None else str(h.balance)}
        for h in account_search(request.user, q=q)
    ]


@router.post("/runs", response={200: dict[str, Any], **ERRORS})
def run(request: HttpRequest, body: RunIn) -> Any:
    """The daily collection run for `date` (default today); `dry_run` (the default) changes
    nothing. Returns {"date", "actions", "blocked", "inspection_offers"} as `arrears run
    --format json` does."""
    on = day(body.date)
    # The CLI's run, without its emails: they go out with `arrears mail send`, not in a request.
    return acts.book_run(by=by(request), on=on, dry_run=body.dry_run).result.as_json()


IMPORT_SUFFIXES = (".zip", ".xlsx")


@router.post("/imports", response={201: ImportOut, **ERRORS})
def book_import_post(
    request: HttpRequest,
    file: UploadedFile = File(...),  # noqa: B008
    into_open_period: bool = False,
    mapping: str = "",
    as_of: date | None = None,
) -> Any:
    """Import a book: a .zip of interchange CSV files or an .xlsx workbook. All or nothing. A
    transaction dated in a closed month is refused, unless `into_open_period`: then it is posted
    on the first open day, its own date kept in `x_original_posted`. With `mapping` (a builtin
    mapping's name, such as `yardi-ledger`), the file is a property-management export (.csv)
    and `as_of` dates an aging export; a mapping file of one's own is for the command line."""
    authorize(request.user, "import")
    name = file.name or ""
    suffix = Path(name).suffix.lower()
    if mapping:
        if mapping not in builtin_names():
            raise ValidationError(
                _("no builtin mapping is named {mapping} (the builtins: {builtins})"),
                code="import_mapping",
                mapping=mapping[:100],
                builtins=", ".join(builtin_names()),
            )
        if suffix != ".csv":
            raise ValidationError(
                _("upload the export as a .csv file"), code="import_file_kind", file=name[:200]
            )
    elif suffix not in IMPORT_SUFFIXES:
        raise ValidationError(
            _("upload a .zip of interchange CSV files or an .xlsx workbook"),
            code="import_file_kind",
            file=name[:200],
        )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload{suffix}"
        with path.open("wb") as out:
            for chunk in file.chunks():
                out.write(chunk)
        summary = acts.book_import(
            by=by(request),
            path=path,
            name=name,
            into_open_period=into_open_period,
            mapping=mapping,
            as_of=day(as_of) if as_of else None,
        )
    return Status(201, {"changed": summary.changed, "summary": summary.line()})
