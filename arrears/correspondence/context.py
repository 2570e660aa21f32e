"""The merge fields of a letter or an email: one dictionary, built from rows already read.

Documented in docs/templates.md; every key below is a merge field. No queries here: the
selectors read the rows (one query per kind for a whole batch) and hand them in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from arrears.banking.selectors import cash_only
from arrears.core.money import ZERO
from arrears.correspondence.addresses import mailing_address
from arrears.correspondence.catalog import CODE_LABELS, spec_for
from arrears.ledger.models import Account, Party

RENT_CODES = ("RENT",)
# A security deposit applied to the balance is a credit of this code (the move-out's deposit
# disposition, `apply_deposit` in the demo): the only ground for a letter to say so.
DEPOSIT_CODE = "DEP"
# What a disposition kept from the deposit for work or costs the book did not hold yet is posted
# as a charge of one of these codes with this memo before its description (arrears.moveout;
# unpaid rent and late fees kept from it are charges the book held already).
DEDUCTION_CODES = ("DMG", "CLN", "UTIL", "MOV", "OTH")
DEDUCTION_MEMO = "deposit deduction: "


class DepositApplied(NamedTuple):
    """A deposit application on the ledger: a `DEP` credit and, if it was undone, when; or a
    `DEP` charge, which takes one back (a corrected disposition charges its credits back), as a
    negative amount."""

    account_pk: int
    txn_id: str
    posted_on: date
    amount: Decimal
    reversed_on: date | None


class DepositDeduction(NamedTuple):
    """A deduction from the deposit on the ledger: its charge, what of it was taken back by `on`
    (a corrected disposition credits its charges back, code for code), and its reversal's day."""

    account_pk: int
    txn_id: str
    posted_on: date
    code: str
    text: str
    amount: Decimal
    taken_back: Decimal
    reversed_on: date | None


def _charge(spec: Any, rows: Sequence[Any], wanted: str | None, on: date) -> Any:
    """The open charge a letter is about: the step's (`wanted`, by txn id), else by the
    template's `charge_of` (catalog); None when it is not open on `on`."""
    charges = [r for r in rows if not r.is_credit and r.due_on is not None]
    if wanted:
        return next((r for r in charges if r.txn_id == wanted), None)
    if spec.charge_of == "rent":
        due = [r for r in charges if r.code in RENT_CODES and r.due_on <= on]
        return max(due, key=lambda r: (r.due_on, r.txn_id), default=None)
    if spec.charge_of == "upcoming":
        ahead = [r for r in charges if r.due_on > on]
        return min(ahead, key=lambda r: (r.due_on, r.txn_id), default=None)
    return None


def premises_line(account: Account) -> str:
    prop = account.property
    if prop is None:
        return ""
    parts = [prop.address + (f", Unit {account.unit}" if account.unit else ""), prop.city]
    tail = " ".join(x for x in (prop.state, prop.postal_code) if x)
    return ", ".join(p for p in (*parts, tail) if p)


def letter_context(
    *,
    on: date,
    language: str,
    template: str,
    account: Account,
    party: Party | None,
    role: str,
    open_items: Iterable[Any],
    tenants: Sequence[str] = (),
    guarantee_limit: Decimal | None = None,
    amount: Decimal | None = None,
    deadline: date | None = None,
    delinquency: date | None = None,
    step: str = "",
    policy: str = "",
    company: dict[str, Any] | None = None,
    reference: str = "",
    certified: bool = False,
    charge: str | None = None,
    deposits: Iterable[DepositApplied] = (),
    deductions: Iterable[DepositDeduction] = (),
) -> dict[str, Any]:
    """The merge fields for one addressee of one account on `on` (see docs/templates.md).

    `open_items` are the account's open items as of `on` (`OpenItemRow`s): charges due by `on`
    are itemized (rent only for a template that names rent only), credits are netted.
    `charge` is the txn id of the charge the step is about (a per-charge step), `deposits` the
    account's deposit applications (`DEP` credits), `deductions` what a disposition kept from the
    deposit (its charges); only what they hold as of `on` is said, and the deductions only
    beside a deposit applied.
    """
    spec = spec_for(template)
    labels = CODE_LABELS.get(language, CODE_LABELS["en"])
    open_items = list(open_items)
    items, by_code, credits = _items(spec, open_items, on, labels)
    charged = sum((i["amount"] for i in items), ZERO)
    if spec.rent_only:  # a rent demand names the rent; credits are not netted against fees
        credits = ZERO
    total_due = max(charged - credits, ZERO)
    prop = account.property
    return {
        "language": language,
        "letter_date": on,
        "template": template,
        "step": step,
        "policy": policy,
        "law": spec.law,
        "reference": reference,
        "certified": certified,
        "company": company or {},
        **_addressee_fields(account, party, role, tenants, guarantee_limit),
        "items": items,
        "by_code": by_code,
        "credits": credits,
        "total_due": total_due,
        "amount": amount if amount is not None else total_due,
        "deadline": deadline,
        "delinquency": delinquency,
        "charge": _charge_fields(_charge(spec, open_items, charge, on), labels, on),
        "deposit_applied": (applied := _deposit_applied(deposits, on)),
        "deposit_deductions": _deductions(deductions, on, labels) if applied else [],
        "owner": prop.owner_name if prop is not None else "",
        # too many payments came back: the letter says certified funds only (arrears.banking)
        "cash_only": cash_only(account) is not None if account.pk else False,
    }


def _items(
    spec: Any, open_items: Sequence[Any], on: date, labels: dict[str, str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], Decimal]:
    """The charges due by `on` a letter itemizes (rent only for a template that names rent
    only), their totals by code (`by_code`), and the credits open."""
    items = []
    credits = ZERO
    by_code: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for row in open_items:
        if row.is_credit:
            credits += row.amount
            continue
        if row.due_on is None or row.due_on > on:
            continue
        if spec.rent_only and row.code not in RENT_CODES:
            continue
        items.append(
            {
                "code": row.code,
                "label": labels.get(row.code, row.code),
                "txn_id": row.txn_id,
                "due_on": row.due_on,
                "posted_on": row.posted_on,
                "amount": row.amount,
                "days_past_due": (on - row.due_on).days,
            }
        )
        by_code[row.code] += row.amount
    totals = [
        {"code": c, "label": labels.get(c, c), "amount": a} for c, a in sorted(by_code.items())
    ]
    return items, totals, credits


def _address_lines(account: Account, party: Party | None, role: str) -> list[str]:
    """The addressee's mailing address lines, as `addresses.mailing_address` chooses them."""
    prop = account.property
    premises = (
        (prop.address, prop.city, prop.state, prop.postal_code, prop.country, account.unit)
        if prop is not None
        else None
    )
    address = None
    if party is not None:
        address = mailing_address(
            role=role,
            party=(party.address, party.city, party.state, party.postal_code, party.country),
            premises=premises,
        )
    return address.lines() if address else []


def _party_fields(party: Party | None) -> dict[str, str]:
    return {
        "party_id": party.party_id if party else "",
        "name": party.name if party else "",
        "email": party.email if party else "",
        "phone": party.phone if party else "",
        "kind": party.kind if party else "",
    }


def _property_fields(prop: Any) -> dict[str, Any] | None:
    return (
        {
            "property_id": prop.property_id,
            "name": prop.name,
            "address": prop.address,
            "city": prop.city,
            "state": prop.state,
            "postal_code": prop.postal_code,
            "owner_name": prop.owner_name,
        }
        if prop is not None
        else None
    )


def _charge_fields(about: Any, labels: dict[str, str], on: date) -> dict[str, Any] | None:
    return (
        {
            "txn_id": about.txn_id,
            "code": about.code,
            "label": labels.get(about.code, about.code),
            "due_on": about.due_on,
            "amount": about.amount,
            "days_past_due": (on - about.due_on).days,
        }
        if about is not None
        else None
    )


def _addressee_fields(
    account: Account,
    party: Party | None,
    role: str,
    tenants: Sequence[str],
    guarantee_limit: Decimal | None,
) -> dict[str, Any]:
    """The merge fields of the addressee, the account and its premises."""
    return {
        "party": _party_fields(party),
        "role": role,
        "is_guarantor": role == "guarantor",
        "addressee": {
            "name": party.name if party else "",
            "lines": _address_lines(account, party, role),
        },
        "account": {
            "account_id": account.account_id,
            "kind": account.kind,
            "unit": account.unit,
            "rent": account.rent,
            "currency": account.currency,
        },
        "property": _property_fields(account.property),
        "premises": premises_line(account),
        "tenant_names": list(tenants) or ([party.name] if party else []),
        "guarantee_limit": guarantee_limit,
    }


def _deposit_applied(deposits: Iterable[DepositApplied], on: date) -> Decimal | None:
    """What the deposit applications hold as of `on` (None when none does)."""
    applied = [
        d for d in deposits if d.posted_on <= on and (d.reversed_on is None or d.reversed_on > on)
    ]
    return sum((d.amount for d in applied), ZERO) if applied else None


def _deductions(
    deductions: Iterable[DepositDeduction], on: date, labels: dict[str, str]
) -> list[dict[str, Any]]:
    """The deductions from the deposit standing on `on`: posted by then, not reversed, less what
    was taken back of them (none of which is left out)."""
    out = []
    for d in sorted(deductions, key=lambda d: (d.posted_on, d.txn_id)):
        left = d.amount - d.taken_back
        if d.posted_on > on or (d.reversed_on is not None and d.reversed_on <= on) or left <= 0:
            continue
        out.append(
            {"code": d.code, "label": labels.get(d.code, d.code), "text": d.text, "amount": left}
        )
    return out
