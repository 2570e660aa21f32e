"""Reads of correspondence: merge fields for letters and emails (a batch at a time), returned
addresses for the compliance guard, lists of outbound letters, and templates' versions."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.utils.translation import gettext_lazy as _

from arrears.core.errors import NotFoundError
from arrears.correspondence.addresses import PostalAddress, address_key, mailing_address
from arrears.correspondence.catalog import CATALOG, language_for
from arrears.correspondence.context import (
    DEDUCTION_CODES,
    DEDUCTION_MEMO,
    DEPOSIT_CODE,
    DepositApplied,
    DepositDeduction,
    letter_context,
)
from arrears.correspondence.models import Outbound, PrintBatch, ReturnedMail, Template
from arrears.ledger.models import Account, AccountParty, Party, Transaction
from arrears.ledger.selectors import open_items_as_of


def _company() -> dict[str, Any]:
    from django.conf import settings

    return dict(settings.ARREARS_COMPANY)


def _links(account_pks: Iterable[int]) -> dict[int, list[AccountParty]]:
    links: dict[int, list[AccountParty]] = defaultdict(list)
    for ap in (
        AccountParty.objects.filter(account_id__in=list(account_pks))
        .select_related("party")
        .order_by("account_id", "role", "party__name")
    ):
        links[ap.account_id].append(ap)
    return links


def _tenants(links: Sequence[AccountParty]) -> list[str]:
    return [ap.party.name for ap in links if ap.role in ("primary", "co_obligor")]


def deposit_applications(account_pks: Iterable[int], on: date) -> dict[int, list[DepositApplied]]:
    """Each account's deposit applications (`DEP` credits) posted by `on`, with the day a
    reversal undid one (if it did by `on`), and the `DEP` charges that took one back (a
    corrected disposition's), as negative amounts."""
    out: dict[int, list[DepositApplied]] = defaultdict(list)
    entries = list(
        Transaction.objects.filter(
            account_id__in=list(account_pks),
            type__in=("credit", "charge"),
            code=DEPOSIT_CODE,
            posted_on__lte=on,
        )
        .order_by("id")
        .values_list("id", "account_id", "txn_id", "posted_on", "amount", "type")
    )
    if not entries:
        return {}
    undone = dict(
        Transaction.objects.filter(
            type="reversal", reverses_id__in=[c[0] for c in entries], posted_on__lte=on
        ).values_list("reverses_id", "posted_on")
    )
    for pk, account_pk, txn_id, posted_on, amount, kind in entries:
        sign = -1 if kind == "charge" else 1
        out[account_pk].append(
            DepositApplied(account_pk, txn_id, posted_on, sign * amount, undone.get(pk))
        )
    return dict(out)


def deposit_deductions(account_pks: Iterable[int], on: date) -> dict[int, list[DepositDeduction]]:
    """Each account's deductions from a deposit posted by `on` (charges of DEDUCTION_CODES whose
    memo starts DEDUCTION_MEMO), with what credits of the same code took back of them by `on`
    and the day a reversal undid one."""
    out: dict[int, list[DepositDeduction]] = defaultdict(list)
    charges = list(
        Transaction.objects.filter(
            account_id__in=list(account_pks),
            type="charge",
            code__in=DEDUCTION_CODES,
            memo__startswith=DEDUCTION_MEMO,
            posted_on__lte=on,
        )
        .order_by("id")
        .values_list("id", "account_id", "txn_id", "posted_on", "code", "memo", "amount")
    )
    if not charges:
        return {}
    pks = [c[0] for c in charges]
    codes = {c[0]: c[4] for c in charges}
    back: dict[int, Decimal] = defaultdict(Decimal)
    for applies_to, code, amount in Transaction.objects.filter(
        type="credit", applies_to_id__in=pks, posted_on__lte=on
    ).values_list("applies_to_id", "code", "amount"):
        if code == codes[applies_to]:
            back[applies_to] += amount
    undone = dict(
        Transaction.objects.filter(
            type="reversal", reverses_id__in=pks, posted_on__lte=on
        ).values_list("reverses_id", "posted_on")
    )
    for pk, account_pk, txn_id, posted_on, code, memo, amount in charges:
        out[account_pk].append(
            DepositDeduction(
                account_pk,
                txn_id,
                posted_on,
                code,
                memo[len(DEDUCTION_MEMO) :].strip(),
                amount,
                back[pk],
                undone.get(pk),
            )
        )
    return dict(out)


def outbound_contexts(outbounds: Sequence[Outbound]) -> list[dict[str, Any]]:
    """The merge fields of each outbound letter or email, in order: a few queries per batch.

    Dated, and its open items read, as of the day it goes out (`dated_on`) once the letters batch
    or the email sender fixed it, else as of the day it was queued."""
    if not outbounds:
        return []
    account_pks = {o.account_id for o in outbounds}
    accounts = {
        a.pk: a for a in Account.objects.filter(pk__in=account_pks).select_related("property")
    }
    links = _links(account_pks)
    items: dict[tuple[date, int], list[Any]] = defaultdict(list)
    by_day: dict[date, set[int]] = defaultdict(set)
    for o in outbounds:
        by_day[_dated(o)].add(o.account_id)
    for day, pks in by_day.items():
        for row in open_items_as_of(as_of=day, account_pks=pks):
            items[(day, row.account_pk)].append(row)
    company = _company()
    deposits = deposit_applications(account_pks, max(by_day))
    deductions = deposit_deductions(account_pks, max(by_day))
    out = []
    for o in outbounds:
        link = next(
            (ap for ap in links[o.account_id] if ap.party_id == o.party_id and ap.role == o.role),
            None,
        )
        party = link.party if link else None
        out.append(
            letter_context(
                on=_dated(o),
                language=language_for(o.language or (party.language if party else "")),
                template=o.template,
                account=accounts[o.account_id],
                party=party,
                role=o.role,
                open_items=items[(_dated(o), o.account_id)],
                tenants=_tenants(links[o.account_id]),
                guarantee_limit=link.guarantee_limit if link else None,
                amount=o.amount,
                deadline=o.deadline,
                delinquency=o.delinquency,
                step=o.step,
                policy=o.policy,
                company=company,
                reference=f"L{o.pk}" if o.pk else "",
                certified=o.channel == "certified_letter",
                charge=(o.detail or {}).get("charge"),
                deposits=deposits.get(o.account_id, ()),
                deductions=deductions.get(o.account_id, ()),
            )
            | _fields(o)
        )
    return out


def _dated(outbound: Outbound) -> date:
    """The document's date: the day it goes out once that is fixed, else the day it was queued."""
    return outbound.dated_on or outbound.run_on


def _fields(outbound: Outbound) -> dict[str, Any]:
    """Merge fields a letter queued by hand carries (`detail["fields"]`, e.g. `dispute`)."""
    return queued_fields((outbound.detail or {}).get("fields") or {})


def queued_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Merge fields as a queued letter carries them (JSON), read back: the values of keys ending
    in `_on` as dates."""
    return {name: _dates(value) for name, value in fields.items()}


def _dates(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: date.fromisoformat(v)
            if k.endswith("_on") and isinstance(v, str) and v
            else _dates(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_dates(v) for v in value]
    return value


def context_for(
    *,
    account_id: str,
    template: str,
    on: date,
    party_id: str | None = None,
    language: str | None = None,
    amount: Decimal | None = None,
    deadline: date | None = None,
    delinquency: date | None = None,
    reference: str = "",
    charge: str | None = None,
) -> dict[str, Any]:
    """The merge fields for one party (default: the primary) of an account; NotFoundError if the
    account or the party is unknown. `charge` names the charge the letter is about (txn id)."""
    account = Account.objects.select_related("property").filter(account_id=account_id).first()
    if account is None:
        raise NotFoundError(
            _("no account {account_id!r}"), code="account_not_found", account_id=account_id
        )
    links = _links([account.pk])[account.pk]
    if party_id:
        link = next((ap for ap in links if ap.party.party_id == party_id), None)
        if link is None:
            raise NotFoundError(
                _("{party_id!r} is not a party of account {account_id!r}"),
                code="party_not_on_account",
                party_id=party_id,
                account_id=account_id,
            )
    else:
        link = next((ap for ap in links if ap.role == "primary"), links[0] if links else None)
    party: Party | None = link.party if link else None
    rows = open_items_as_of(as_of=on, account_pks=[account.pk])
    overdue = [r.due_on for r in rows if not r.is_credit and r.due_on and r.due_on <= on]
    return letter_context(
        on=on,
        language=language_for(language or (party.language if party else "")),
        template=template,
        account=account,
        party=party,
        role=link.role if link else "",
        open_items=rows,
        tenants=_tenants(links),
        guarantee_limit=link.guarantee_limit if link else None,
        amount=amount,
        deadline=deadline,
        delinquency=delinquency or (min(overdue) if overdue else None),
        company=_company(),
        reference=reference,
        charge=charge,
        deposits=deposit_applications([account.pk], on).get(account.pk, ()),
        deductions=deposit_deductions([account.pk], on).get(account.pk, ()),
    )


def returned_addresses(party_pks: Iterable[int]) -> dict[int, set[str]]:
    """For each party with returned mail: the keys (`addresses.address_key`) of its bad addresses.

    The compliance guard (arrears.dunning) refuses a letter whose mailing address has one of these
    keys; a new address on file has another key, so it is tried again.
    """
    out: dict[int, set[str]] = defaultdict(set)
    for party_pk, key in ReturnedMail.objects.filter(party_id__in=list(party_pks)).values_list(
        "party_id", "address_key"
    ):
        out[party_pk].add(key)
    return dict(out)


def party_address_key(party: Party, account: Account, role: str) -> str:
    """The key of the address a party's letters about an account go to ("" if none)."""
    prop = account.property
    address: PostalAddress | None = mailing_address(
        role=role,
        party=(party.address, party.city, party.state, party.postal_code, party.country),
        premises=(prop.address, prop.city, prop.state, prop.postal_code, prop.country, account.unit)
        if prop is not None
        else None,
    )
    return address_key(address)


def letters_for_batch(on: date) -> list[Outbound]:
    """Letters queued for the date `on` (and earlier days not yet printed), oldest first."""
    return list(
        Outbound.objects.filter(
            run_on__lte=on, channel__in=("letter", "certified_letter"), status="queued"
        ).order_by("run_on", "account_id", "id")
    )


def letters_waiting(on: date) -> bool:
    """Whether a letters batch on `on` has anything to print: a batch a crash left open, or
    letters queued up to `on`."""
    return (
        PrintBatch.objects.filter(status="open").exists()
        or Outbound.objects.filter(
            run_on__lte=on, channel__in=("letter", "certified_letter"), status="queued"
        ).exists()
    )


BUILT_IN_TEMPLATES = Path(__file__).parent / "templates" / "correspondence"


@dataclass(frozen=True)
class TemplateVersion:
    """One version of a template in one language: its subject and body as Django template
    source; version 0 is the built-in file, 1 and up the company's own."""

    name: str
    language: str
    version: int
    subject: str
    body: str
    created_at: datetime | None = None
    created_by: str = ""


def template_versions(*, name: str, language: str) -> list[TemplateVersion]:
    """Every version of template `name` in `language`, newest first (the one in force first);
    NotFoundError if it has none in that language."""
    out = [
        TemplateVersion(
            t.name, t.language, t.version, t.subject, t.body, t.created_at, t.created_by
        )
        for t in Template.objects.filter(name=name, language=language).order_by("-version")
    ]
    spec = CATALOG.get(name)
    path = BUILT_IN_TEMPLATES / language / f"{name}.html"
    if spec is not None and language in spec.subject and path.is_file():
        out.append(
            TemplateVersion(
                name, language, 0, spec.subject[language], path.read_text(encoding="utf-8")
            )
        )
    if not out:
        raise NotFoundError(
            _("no template {template!r} in {language!r}"),
            code="template_not_found",
            template=name,
            language=language,
        )
    return out
