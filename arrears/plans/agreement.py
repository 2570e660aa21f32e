"""The printable plan agreement, in English or Spanish: schedule, acceleration clause, signatures.

The words are here, per language; the layout is templates/plans/agreement.html. Amounts are
printed from the stored installments, so the document shows exactly what the plan tracks.
"""

from __future__ import annotations

from django.template.loader import render_to_string

from arrears.core.pdf import render_pdf
from arrears.ledger.models import AccountParty
from arrears.plans.models import Plan

LANGUAGES = ("en", "es")

WORDS = {
    "en": {
        "title": "Payment plan agreement",
        "plan": "Plan",
        "account": "Account",
        "date": "Date",
        "between": "This agreement is made between",
        "and": "and",
        "balance": "Amount to be paid under this plan",
        "terms": "The amount will be paid in the following installments:",
        "due": "Due date",
        "amount": "Amount",
        "total": "Total",
        "down": "Down payment",
        "installment": "Installment",
        "current": "Rent and other charges that fall due while the plan runs are to be paid in "
        "full when due, in addition to the installments.",
        "grace": "An installment not paid in full within {grace} days of its due date breaks "
        "this plan; collection of the whole remaining balance may then resume.",
        "acceleration": "Acceleration",
        "payments": "Payments are applied to the installments in order of their due dates.",
        "sign_debtor": "Tenant / debtor: signature and date",
        "sign_landlord": "For the owner: signature and date",
        "disputed": "This plan does not cover {amount} that is in dispute; it is not collected "
        "while the dispute is open, and the answer to the dispute will say what "
        "becomes of it.",
    },
    "es": {
        "title": "Acuerdo de plan de pagos",
        "plan": "Plan",
        "account": "Cuenta",
        "date": "Fecha",
        "between": "Este acuerdo se celebra entre",
        "and": "y",
        "balance": "Importe a pagar según este plan",
        "terms": "El importe se pagará en las siguientes cuotas:",
        "due": "Fecha de vencimiento",
        "amount": "Importe",
        "total": "Total",
        "down": "Pago inicial",
        "installment": "Cuota",
        "current": "El alquiler y los demás cargos que venzan durante el plan deben pagarse "
        "en su totalidad a su vencimiento, además de las cuotas.",
        "grace": "Una cuota que no se pague en su totalidad dentro de los {grace} días "
        "siguientes a su vencimiento rompe este plan; podrá reanudarse entonces el "
        "cobro de todo el saldo pendiente.",
        "acceleration": "Vencimiento anticipado",
        "payments": "Los pagos se aplican a las cuotas por orden de vencimiento.",
        "sign_debtor": "Inquilino / deudor: firma y fecha",
        "sign_landlord": "Por el propietario: firma y fecha",
        "disputed": "Este plan no incluye {amount} que está en disputa; no se cobra mientras la "
        "disputa siga abierta, y la respuesta a la disputa dirá qué pasa con ese "
        "importe.",
    },
}


def _money(amount: object) -> str:
    return f"{amount:,.2f}"


def agreement_html(plan: Plan, language: str = "en") -> str:
    """The agreement as HTML in `language` ("en" or "es"); ValueError for another language."""
    if language not in LANGUAGES:
        raise ValueError(f"the agreement is printed in {', '.join(LANGUAGES)}, not {language!r}")
    t = dict(WORDS[language])
    t["grace"] = t["grace"].format(grace=plan.grace_days)
    # What open disputes held when the plan was made is outside it (plans.services._open_amount).
    disputed = t["disputed"].format(amount=_money(plan.disputed_excluded))
    if not plan.disputed_excluded:
        disputed = ""
    account = plan.account
    debtor_party = plan.party
    if debtor_party is None:
        link = (
            AccountParty.objects.filter(account=account, role="primary")
            .select_related("party")
            .order_by("id")
            .first()
        )
        debtor_party = link.party if link else None
    prop = account.property
    rows = [
        {
            "label": t["down"] if i.seq == 0 else f"{t['installment']} {i.seq}",
            "due_on": i.due_on,
            "amount": _money(i.amount),
        }
        for i in plan.installments.order_by("seq")
    ]
    return render_to_string(
        "plans/agreement.html",
        {
            "lang": language,
            "t": t,
            "plan": plan,
            "account": account,
            "rows": rows,
            "amount": _money(plan.amount),
            "unit": account.unit,
            "debtor": debtor_party.name if debtor_party else account.account_id,
            "landlord": prop.name if prop else "the owner",
            "disputed": disputed,
        },
    )


def agreement_pdf(plan: Plan, language: str = "en") -> bytes:
    """The agreement as a PDF (WeasyPrint)."""
    return render_pdf(agreement_html(plan, language))
