"""The API's shapes. Money is a string with two decimals ("1234.56"), never a number."""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime
from typing import Any

from ninja import Schema


class ErrorOut(Schema):
    code: str
    message: str
    extra: dict[str, Any]


class AccountOut(Schema):
    account_id: str
    property_id: str
    unit: str
    kind: str
    opened_on: date
    closed_on: date | None
    currency: str
    rent: str | None


class PartyOut(Schema):
    party_id: str
    name: str
    role: str
    email: str
    phone: str
    language: str
    timezone: str
    address: str
    consent: dict[str, bool]


class AccountDetailOut(AccountOut):
    parties: list[PartyOut]
    balance: str
    buckets: dict[str, str]
    credit: str


class LedgerLineOut(Schema):
    txn_id: str
    posted_on: date
    type: str
    code: str
    amount: str
    due_on: date | None
    balance: str
    reference: str
    memo: str
    applies_to: str
    reverses: str
    open_amount: str | None
    unapplied: str | None


class LedgerOut(Schema):
    account_id: str
    as_of: date
    balance: str
    count: int
    lines: list[LedgerLineOut]


class EventOut(Schema):
    id: int
    at: datetime
    on: date
    kind: str
    actor: str
    summary: str
    detail: dict[str, Any]


class HoldOut(Schema):
    id: int
    reason: str
    party_id: str | None
    placed_on: date
    until: date | None
    note: str
    placed_by: str
    released_on: date | None
    released_by: str


class NoteIn(Schema):
    text: str


class HoldIn(Schema):
    reason: str
    until: date | None = None
    party_id: str | None = None
    note: str = ""


class ReferralIn(Schema):
    firm: str
    note: str = ""
    override: str = ""  # the reason to refer although the checklist finds something missing


class PacketDocumentOut(Schema):
    name: str
    sha256: str


class ReferralOut(Schema):
    id: int  # the case's id (as case_id)
    case_id: int
    account_id: str
    firm: str
    referred_on: date
    referred_by: str
    status: str
    packet: str | None  # the case file ZIP's archive name
    missing: list[str]  # what the referral checklist found missing
    documents: list[PacketDocumentOut]


class LastContactOut(Schema):
    on: str
    channel: str
    outcome: str


class WorkItemOut(Schema):
    account_id: str
    kind: str
    reason: str  # in words for a person, in the caller's language
    party_id: str | None
    balance: str
    likelihood: str
    expected_recovery: str
    detail: str  # the line as the cycle words it
    tab: str
    action_id: int | None
    tenant: str
    property: str
    unit: str
    days_late: int
    likelihood_percent: int
    last_contact: LastContactOut | None
    next_step: str
    next_on: str | None


class WorklistSnoozeIn(Schema):
    account_id: str
    kind: str
    reason: str
    until: dt.date
    action_id: int | None = None


class WorklistDismissIn(Schema):
    account_id: str
    kind: str
    reason: str
    action_id: int | None = None


class WorklistSetAsideOut(Schema):
    account_id: str
    kind: str
    action_id: int | None
    until: str | None
    reason: str
    on: str
    by: str


class RunIn(Schema):
    date: dt.date | None = None
    dry_run: bool = True


class ImportOut(Schema):
    changed: bool
    summary: str


class HitOut(Schema):
    account_id: str
    property_id: str
    unit: str
    names: str
    why: str
    exact: bool  # the account named by its id or unit
    currency: str
    balance: str | None  # open at the end of the book; negative in credit
    stage: str  # the policy's step last taken, or "current"
