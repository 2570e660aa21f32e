"""The itemized statement of a deposit's disposition: what the letter `deposit-statement` says,
read from the disposition in force (docs/moveout.md, "The itemized statement").

The law asks the landlord to tell the tenant, in writing and within its clock, what was kept from
the deposit and why (N.Y. Gen. Oblig. Law §7-108(1-a)(e): an itemized statement within 14 days of
vacating, to the last known address; Cal. Civ. Code §1950.5(g)(1): within 21 days). This module
reads; dunning sends (`arrears.dunning.deposit_statement`).

- `statement_due(account_id=…, on=…, late_reason=…)`: the disposition to state, checked: one is
  in force, a deposit was held, and it is sent by the disposition's `statement_due`, else refused
  with rule `deposit:deadline` unless a reason is given;
- `statement_fields(due, language)`: the merge fields `deposit_statement` (JSON values: amounts
  as strings, an amount of zero as "", dates under keys ending `_on`), the deductions worded in
  the addressee's language.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from arrears.core.errors import ValidationError
from arrears.ledger.models import Account
from arrears.ledger.selectors import account_get
from arrears.moveout.models import Deduction, Disposition
from arrears.moveout.rules import DepositRule, deposit_rule
from arrears.moveout.services import DepositRefusedError, vacated_on

TEMPLATE = "deposit-statement"  # the letter (correspondence's catalog)

ZERO = Decimal("0.00")

# Each deduction code (services.DEDUCTIONS) as the letter names it, by language.
DEDUCTION_LABELS = {
    "en": {
        "rent": "Unpaid rent",
        "late_fee": "Late fees",
        "damage": "Damage beyond normal wear and tear",
        "cleaning": "Cleaning",
        "utilities": "Utilities",
        "moving": "Moving and storage of belongings",
        "other": "Other",
    },
    "es": {
        "rent": "Renta no pagada",
        "late_fee": "Cargos por pago atrasado",
        "damage": "Daños más allá del desgaste normal",
        "cleaning": "Limpieza",
        "utilities": "Servicios públicos",
        "moving": "Mudanza y almacenamiento de pertenencias",
        "other": "Otros",
    },
}


@dataclass(frozen=True)
class StatementDue:
    """The disposition in force, ready to be stated: its account, its deductions, the day the
    tenants vacated, the jurisdiction's rule, and whether it is sent after its deadline."""

    account: Account
    disposition: Disposition
    deductions: list[Deduction]
    vacated: date
    rule: DepositRule
    late: bool
    late_reason: str


def statement_due(*, account_id: str, on: date, late_reason: str = "") -> StatementDue:
    """The disposition in force of `account_id` to state on `on`; NotFoundError for no such
    account, ValidationError when there is no disposition or no deposit, DepositRefusedError
    (rule `deposit:deadline`) after the disposition's `statement_due` without a reason."""
    account = account_get(account_id=account_id)
    current = (
        Disposition.objects.filter(account=account, superseded_by__isnull=True)
        .order_by("-version")
        .first()
    )
    if current is None:
        raise ValidationError(
            _("{account_id}'s deposit has no disposition: post one first, then state it"),
            code="deposit_not_disposed",
            account_id=account_id,
        )
    if not current.deposit_held:
        raise ValidationError(
            _("{account_id} held no security deposit: there is nothing to state"),
            code="deposit_none",
            account_id=account_id,
        )
    rule = deposit_rule(current.jurisdiction)
    reason = " ".join(late_reason.split())[:500]
    due = current.statement_due
    if on > due and not reason:
        # N.Y. Gen. Oblig. Law §7-108(1-a)(e): a landlord who misses the 14 days forfeits the
        # right to keep any of the deposit; Cal. Civ. Code §1950.5(g)(1): 21 days.
        forfeit = (
            _(" Missing it forfeits the landlord's right to keep any of the deposit.")
            if rule.forfeits
            else ""
        )
        raise DepositRefusedError(
            _(
                "the itemized statement was due by {due} ({law}); it is {on}.{forfeit} Give a "
                "reason to send it all the same."
            ),
            code="deposit_statement_late",
            rule="deposit:deadline",
            due=due.isoformat(),
            law=rule.law or rule.jurisdiction,
            on=on.isoformat(),
            forfeit=str(forfeit),
        )
    vacated = vacated_on(account) or current.posted_on
    return StatementDue(
        account=account,
        disposition=current,
        deductions=list(current.deductions.order_by("line")),
        vacated=vacated,
        rule=rule,
        late=on > due,
        late_reason=reason if on > due else "",
    )


def _amount(value: Decimal) -> str:
    """An amount as a merge field carries it: two decimals, "" for zero (the letter then leaves
    its line out)."""
    return f"{value:.2f}" if value else ""


def statement_fields(due: StatementDue, language: str) -> dict[str, Any]:
    """The merge fields of the itemized statement (docs/templates.md, `deposit_statement`)."""
    d = due.disposition
    labels = DEDUCTION_LABELS.get(language, DEDUCTION_LABELS["en"])
    deducted = sum((x.amount for x in due.deductions), ZERO)
    # What the account owed on the disposition's day, its new deduction charges included, before
    # the deposit was applied: the balance after it plus what was applied.
    owed_before = d.balance_owed - d.refund_due + d.applied
    return {
        "deposit_statement": {
            "version": d.version,
            "vacated_on": due.vacated.isoformat(),
            "posted_on": d.posted_on.isoformat(),
            "statement_due_on": d.statement_due.isoformat(),
            "deposit_held": _amount(d.deposit_held),
            "interest": _amount(d.interest),
            "deductions": [
                {
                    "line": x.line,
                    "code": x.code,
                    "label": labels.get(x.code, x.code),
                    "text": x.text,
                    "amount": f"{x.amount:.2f}",
                }
                for x in due.deductions
            ],
            "deducted": _amount(deducted),
            "owed_before": _amount(owed_before),
            "applied": _amount(d.applied),
            "refund_due": _amount(d.refund_due),
            "balance_owed": _amount(d.balance_owed),
            "settled": not d.refund_due and not d.balance_owed,
            "jurisdiction": d.jurisdiction,
            "law": due.rule.law,
        }
    }


def statement_preview(*, account_id: str, on: date, party_id: str = "") -> Any:
    """The itemized statement as the letter would print it for `party_id` (the primary tenant by
    default), queuing nothing: a RenderedMessage of the letter page (its `html` for the PDF).
    The deadline is not asked (a preview of a late statement is how a coordinator decides to
    send it with a reason); a required merge field left empty raises MissingFieldError as the
    send would."""
    from arrears.correspondence.catalog import language_for
    from arrears.correspondence.rendering import render_with, template_load
    from arrears.correspondence.selectors import context_for, queued_fields

    due = statement_due(account_id=account_id, on=on, late_reason="preview")
    context = context_for(
        account_id=account_id,
        template=TEMPLATE,
        on=on,
        party_id=party_id or None,
        reference="preview",
    )
    language = language_for(context["language"])
    # the fields as a queued letter carries them (JSON), read back as the letter reads them
    fields = json.loads(json.dumps(statement_fields(due, language), default=str))
    context.update(queued_fields(fields))
    return render_with(template_load(TEMPLATE, context["language"]), context, letter=True)
