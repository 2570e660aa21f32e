"""How the command line words a domain error: by its code, naming the command's own flags and
commands, filled in from the error's facts (`extra`). A wording applies to the errors of its code
that carry every fact it names (period_closed is also the code of a close out of order, which has
other facts); any other error is said in the service's own English words."""

from __future__ import annotations

from string import Formatter

from django.utils import translation

from arrears.core.errors import DomainError

CLI_WORDING = {
    "dispute_upheld_amount": (
        "an upheld dispute credits what was disputed ({disputed:.2f}); use --outcome partial for "
        "{amount:.2f}"
    ),
    "dispute_partial_amount": (
        "a partial resolution needs --amount above 0 and below the disputed {disputed:.2f}"
    ),
    "dispute_rejected_amount": "a rejected dispute credits nothing: leave out --amount",
    "period_starts_after_end": "--from {start} is after --to {end}",
    "aging_by_unknown": "--by must be one of {choices}",
    "hold_ends_before_start": "--until {until} is before the hold starts ({start})",
    "coverage_range_reversed": "--to {until} is before --from {since}",
    "coverage_past": "--to {until} has passed: a coverage is for today or later",
    "assignment_target": "name one of --property, --portfolio or --account",
    "promise_needs_confirmation": (
        "confirm the promise of {amount} by {promised_on} (--confirm): {said}"
    ),
    "call_promise_without_outcome": (
        "a promise (--promise-amount, --promise-date) is taken on a call with --outcome promise"
    ),
    "reopen_reason_missing": "say why the month is reopened (--reason)",
    "no_worker": (
        "no worker answered within {wait} s (--wait): start one with `arrears worker` "
        "(CELERY_BROKER_URL)"
    ),
    "no_broker": "the broker (CELERY_BROKER_URL) did not answer within {wait} s (--wait)",
    "deposit_deadline": (
        "refused (rule deposit:deadline): the itemized statement was due by {due} ({law}), {days} "
        "days after the move-out on {vacated}; it is {on}.{forfeit} To post it all the same, say "
        "why: --override REASON"
    ),
    "deposit_statement_late": (
        "refused (rule deposit:deadline): the itemized statement was due by {due} ({law}); it is "
        "{on}.{forfeit} To send it all the same, say why: --override REASON"
    ),
    "deposit_receipt": (
        "refused (rule deposit:receipt): deductions {lines}: repairs and cleaning of {floor} or "
        "more go with their receipts, invoices or bills ({law}); attach each with --receipt N:FILE"
    ),
    "deposit_late_fee": (
        "refused (rule deposit:late_fee): deduction {n}: late fees may not be kept from a deposit "
        "here ({law})"
    ),
    "disposition_exists": (
        "{account_id}'s deposit was disposed of on {day} (version {version}); to correct it, say "
        "why: --correct REASON"
    ),
    "period_closed": (
        "{month} is closed (the book is closed through {through}): {what} dated {on} would change "
        "it; a controller reopens the month (`arrears period reopen {through} --reason …`) or it "
        "is dated {first_open} or later"
    ),
}


def cli_message(exc: DomainError) -> str:
    """The error in the command line's words, in English."""
    with translation.override("en"):
        wording = CLI_WORDING.get(exc.code)
        if wording is None or not _names(wording) <= exc.extra.keys():
            return exc.message
        return wording.format(**exc.extra)


def _names(wording: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(wording) if name}
