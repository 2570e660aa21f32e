"""The built-in templates: one for each `template = …` of the built-in policies, in English and
Spanish. Pure data.

Each entry names the statute whose wording the letter carries (`law`), whether it names rent only
(`rent_only`: NY RPAPL §702 and Cal. Code Civ. Proc. §1161(2) demands state the rent due, never
fees), and the subject line per language (a Django template string). The body is the file
`templates/correspondence/<language>/<name>.html`; a company's stored version overrides both.
"""

from __future__ import annotations

from dataclasses import dataclass

LANGUAGES = ("en", "es")
DEFAULT_LANGUAGE = "en"
_ACCT = " ({{ account.account_id }})"  # the account, at the end of every subject line


@dataclass(frozen=True)
class TemplateSpec:
    name: str
    subject: dict[str, str]
    law: str = ""
    rent_only: bool = False
    deadline_days: int = 0  # for previews only: the run computes the real deadline
    # A document enclosed with the letter (appended to its PDF) and attached to the email:
    # "statement" (the statement of account as of the letter's date). A letter queued by hand
    # names its own enclosures (`Outbound.detail["enclosures"]`, archived documents).
    encloses: str = ""
    # The merge fields the letter cannot do without (dotted paths into the context, e.g.
    # "company.phone"): rendering refuses a letter in which one is empty (docs/templates.md).
    requires: tuple[str, ...] = ()
    # The charge the letter is about when the step does not name one (a notice sent by hand, a
    # preview): "rent", the latest rent charge due by the letter's date and still open;
    # "upcoming", the first open charge not yet due.
    charge_of: str = ""
    # A notice the law prescribes, whose sending starts a legal clock (NY RPL §235-e(d), NY RPAPL
    # §711(2), Cal. Code Civ. Proc. §1161(2)): sent by hand only after the user confirms it.
    statutory: bool = False

    def title(self, language: str) -> str:
        """The template's readable name in `language` (its subject without the account)."""
        subject = self.subject.get(language) or self.subject.get(DEFAULT_LANGUAGE) or self.name
        return subject.replace(_ACCT, "")


# Every letter is addressed to someone by name.
_ALL = ("addressee.name",)
_TENANCY = (*_ALL, "premises")
_TENANTS = (*_TENANCY, "tenant_names")

REQUIRES: dict[str, tuple[str, ...]] = {
    "ny-rent-reminder": (*_TENANCY, "charge"),
    "ny-late-rent-notice": (*_TENANCY, "charge"),
    "ny-late-rent-notice-guarantor": (*_TENANTS, "charge"),
    "ny-rent-demand": (*_TENANTS, "amount", "deadline"),
    "ca-rent-reminder": (*_TENANCY, "charge"),
    "ca-3-day-notice-pay-or-quit": (
        *_TENANTS,
        "amount",
        "deadline",
        "company.address_lines",
        "company.phone",
    ),
    "b2b-reminder-before-due": (*_ALL, "charge"),
    "b2b-final-notice": (*_ALL, "deadline"),
    "post-move-out-demand": _TENANCY,
    "post-move-out-demand-guarantor": _TENANTS,
    "post-move-out-final-notice": (*_TENANCY, "deadline"),
    "post-move-out-final-notice-guarantor": (*_TENANTS, "deadline"),
    "dispute-upheld": (*_ALL, "dispute"),
    "dispute-partial": (*_ALL, "dispute"),
    "dispute-rejected": (*_ALL, "dispute"),
    # The itemized statement states the disposition and says where to dispute it.
    "deposit-statement": (
        *_TENANCY,
        "deposit_statement.vacated_on",
        "deposit_statement.deposit_held",
        "deposit_statement.applied",
        "company.address_lines",
        "company.phone",
    ),
    # The pre-move-out inspection offer names the window and says how to ask for it.
    "inspection-offer": (
        *_TENANCY,
        "inspection_offer.vacate_on",
        "inspection_offer.from_on",
        "inspection_offer.until_on",
        "company.address_lines",
        "company.phone",
    ),
}
CHARGE_OF = {
    "ny-rent-reminder": "rent",
    "ny-late-rent-notice": "rent",
    "ny-late-rent-notice-guarantor": "rent",
    "ca-rent-reminder": "rent",
    "b2b-reminder-before-due": "upcoming",
}


def _spec(name: str, en: str, es: str, **kw: object) -> TemplateSpec:
    return TemplateSpec(
        name,
        {"en": en, "es": es},
        requires=REQUIRES.get(name, _ALL),
        charge_of=CHARGE_OF.get(name, ""),
        **kw,  # type: ignore[arg-type]
    )


CATALOG: dict[str, TemplateSpec] = {
    s.name: s
    for s in (
        _spec("ny-rent-reminder", "Rent reminder" + _ACCT, "Recordatorio de renta" + _ACCT),
        _spec(
            "ny-late-rent-notice",
            "Notice of rent not received" + _ACCT,
            "Aviso de renta no recibida" + _ACCT,
            law="NY RPL §235-e(d)",
            statutory=True,
        ),
        _spec(
            "ny-late-rent-notice-guarantor",
            "Notice to guarantor: rent not received" + _ACCT,
            "Aviso al garante: renta no recibida" + _ACCT,
            law="NY RPL §235-e(d)",  # a copy for the guarantor: the statute names the lessee only
        ),
        _spec(
            "ny-rent-demand",
            "Fourteen-day rent demand" + _ACCT,
            "Demanda de renta de catorce días" + _ACCT,
            law="NY RPAPL §711(2), §702",
            statutory=True,
            rent_only=True,
            deadline_days=14,
        ),
        _spec("ca-rent-reminder", "Rent reminder" + _ACCT, "Recordatorio de renta" + _ACCT),
        _spec(
            "ca-3-day-notice-pay-or-quit",
            "Three-day notice to pay rent or quit" + _ACCT,
            "Aviso de tres días para pagar la renta o desalojar" + _ACCT,
            law="Cal. Code Civ. Proc. §1161(2)",
            statutory=True,
            rent_only=True,
            deadline_days=3,
        ),
        _spec(
            "b2b-reminder-before-due",
            "Invoice due soon" + _ACCT,
            "Factura próxima a vencer" + _ACCT,
        ),
        _spec("b2b-invoice-overdue", "Invoice overdue" + _ACCT, "Factura vencida" + _ACCT),
        _spec(
            "b2b-statement-15",
            "Statement of overdue invoices" + _ACCT,
            "Estado de facturas vencidas" + _ACCT,
        ),
        _spec(
            "b2b-statement-30",
            "Second statement of overdue invoices" + _ACCT,
            "Segundo estado de facturas vencidas" + _ACCT,
        ),
        _spec(
            "b2b-statement-45",
            "Third statement of overdue invoices" + _ACCT,
            "Tercer estado de facturas vencidas" + _ACCT,
        ),
        _spec(
            "b2b-final-notice",
            "Final notice before referral" + _ACCT,
            "Último aviso antes de la remisión" + _ACCT,
            deadline_days=30,
        ),
        _spec(
            "patient-statement-30",
            "Statement of your account" + _ACCT,
            "Estado de su cuenta" + _ACCT,
            law="26 CFR §1.501(r)-6",
        ),
        _spec(
            "patient-statement-60",
            "Second statement of your account" + _ACCT,
            "Segundo estado de su cuenta" + _ACCT,
            law="26 CFR §1.501(r)-6",
        ),
        _spec(
            "patient-statement-90",
            "Final statement of your account" + _ACCT,
            "Último estado de su cuenta" + _ACCT,
            law="26 CFR §1.501(r)-6",
        ),
        _spec(
            "student-statement-30",
            "Statement of your student account" + _ACCT,
            "Estado de su cuenta de estudiante" + _ACCT,
            law="FERPA, 20 USC §1232g(b)",
        ),
        _spec(
            "student-statement-60",
            "Second statement of your student account" + _ACCT,
            "Segundo estado de su cuenta de estudiante" + _ACCT,
            law="FERPA, 20 USC §1232g(b)",
        ),
        _spec(
            "student-statement-90",
            "Final statement of your student account" + _ACCT,
            "Último estado de su cuenta de estudiante" + _ACCT,
            law="FERPA, 20 USC §1232g(b)",
        ),
        _spec(
            "post-move-out-demand",
            "Balance due after move-out" + _ACCT,
            "Saldo pendiente después de la mudanza" + _ACCT,
        ),
        _spec(
            "post-move-out-demand-guarantor",
            "Notice to guarantor: balance after move-out" + _ACCT,
            "Aviso al garante: saldo después de la mudanza" + _ACCT,
        ),
        _spec(
            "post-move-out-final-notice",
            "Final notice: balance after move-out" + _ACCT,
            "Último aviso: saldo después de la mudanza" + _ACCT,
            deadline_days=20,
        ),
        _spec(
            "post-move-out-final-notice-guarantor",
            "Final notice to guarantor: balance after move-out" + _ACCT,
            "Último aviso al garante: saldo después de la mudanza" + _ACCT,
            deadline_days=20,
        ),
        # The monthly statement of the `student` and `patient` policies (a `day_of_month` step):
        # a cover letter with the statement of account enclosed.
        _spec(
            "monthly-statement",
            "Your monthly statement" + _ACCT,
            "Su estado de cuenta mensual" + _ACCT,
            encloses="statement",
        ),
        # The answers to a resolved dispute (arrears.dunning.documents.dispute_resolve): not a
        # policy step; the coordinator's resolution queues them.
        _spec(
            "dispute-upheld",
            "Your dispute is upheld" + _ACCT,
            "Su reclamación ha sido aceptada" + _ACCT,
            law="15 USC §1692g(b)",
        ),
        _spec(
            "dispute-partial",
            "Your dispute is upheld in part" + _ACCT,
            "Su reclamación ha sido aceptada en parte" + _ACCT,
            law="15 USC §1692g(b)",
        ),
        _spec(
            "dispute-rejected",
            "The answer to your dispute" + _ACCT,
            "Respuesta a su reclamación" + _ACCT,
            law="15 USC §1692g(b)",
        ),
        # The itemized statement of a security deposit's disposition
        # (arrears.dunning.deposit_statement): not a policy step; the coordinator sends it. The
        # statute it answers to is the jurisdiction's (`deposit_statement.law`, from the
        # disposition's rule), so the entry names none.
        _spec(
            "deposit-statement",
            "Itemized statement of the security deposit" + _ACCT,
            "Estado detallado del depósito de garantía" + _ACCT,
        ),
        # The pre-move-out inspection offer (arrears.dunning.inspection_offer): not a policy
        # step; the daily run's own pass sends it. Its statute is the jurisdiction's
        # (`inspection_offer.law`: N.Y. Gen. Oblig. Law §7-108(1-a)(d), Cal. Civ. Code
        # §1950.5(f)(1)), so the entry names none.
        _spec(
            "inspection-offer",
            "Your right to an inspection before you move out" + _ACCT,
            "Su derecho a una inspección antes de mudarse" + _ACCT,
        ),
    )
}

# Templates no policy step names: the letters that answer a resolved dispute, the deposit's
# itemized statement and the pre-move-out inspection offer.
ANSWERS = ("dispute-upheld", "dispute-partial", "dispute-rejected")
STATEMENTS = ("deposit-statement", "inspection-offer")
OUTSIDE_POLICIES = (*ANSWERS, *STATEMENTS)


def spec_for(name: str) -> TemplateSpec:
    """The built-in entry of a template name; a company's own name gets a plain entry."""
    return CATALOG.get(name) or TemplateSpec(name, {"en": name, "es": name})


def language_for(preferred: str) -> str:
    """The letter's language: the party's preferred one if a template exists in it, else English.

    "es-MX" and "es" both choose Spanish.
    """
    base = (preferred or "").split("-")[0].split("_")[0].lower()
    return base if base in LANGUAGES else DEFAULT_LANGUAGE


CODE_LABELS = {
    "en": {
        "RENT": "Rent",
        "LATE": "Late fee",
        "NSF": "Returned payment fee",
        "UTIL": "Utilities",
        "MAINT": "Repairs and maintenance",
        "INV": "Invoice",
        "TUITION": "Tuition",
        "FEES": "Fees",
        "HOUSING": "Housing",
        "VISIT": "Visit",
        "PROC": "Procedure",
        # the move-out's deductions from a deposit, posted as charges (arrears.moveout)
        "DMG": "Damage",
        "CLN": "Cleaning",
        "MOV": "Moving and storage",
        "OTH": "Other charges",
        # a corrected disposition charges the superseded version's deposit credits back
        "DEP": "Deposit credit taken back (disposition corrected)",
    },
    "es": {
        "RENT": "Renta",
        "LATE": "Cargo por pago atrasado",
        "NSF": "Cargo por pago devuelto",
        "UTIL": "Servicios públicos",
        "MAINT": "Reparaciones y mantenimiento",
        "INV": "Factura",
        "TUITION": "Matrícula",
        "FEES": "Cuotas",
        "HOUSING": "Vivienda",
        "VISIT": "Consulta",
        "PROC": "Procedimiento",
        "DMG": "Daños",
        "CLN": "Limpieza",
        "MOV": "Mudanza y almacenamiento",
        "OTH": "Otros cargos",
        "DEP": "Abono del depósito revertido (disposición corregida)",
    },
}

MONTHS = {
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    "es": [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ],
}
