"""What the parity tests share: which interface offers which act (the table of
`docs/architecture.md`, "Acts and their services"), how the rows an act wrote are made generic
(apart from who wrote them, through which interface, when, and the rows' own ids), and the
audit rows an act wrote.

`OFFERED` names, for each act, the command (its words), the page (its URL name) and the API
route (method and path) that offer it; an interface left out does not offer it.
`test_parity_table.py` holds the table to the URL conf, the API's routes and the command line,
and to the parity cases.
"""

from __future__ import annotations

import re
from typing import Any

from arrears.access.models import AuditEntry

INTERFACES = ("cli", "web", "api")
TAG = {"cli": "CLI", "web": "WEB", "api": "API"}

ACCOUNT = "/api/accounts/{account_id}"
OFFERED: dict[str, dict[str, tuple[str, ...]]] = {
    "note.add": {
        "cli": ("note",),
        "web": ("web:account_note",),
        "api": (f"POST {ACCOUNT}/notes",),
    },
    "payment.post": {
        "cli": ("payment post",),
        "web": ("web:account_payment",),
        "api": (f"POST {ACCOUNT}/payments",),
    },
    # bank files and the review queue (arrears.access.acts_bank; test_parity_bank.py)
    "bank.import": {
        "cli": ("bank import",),
        "web": ("web:bank_import",),
        "api": ("POST /api/bank/imports",),
    },
    "bank.review.assign": {
        "web": ("web:bank_review_assign",),
        "cli": ("bank review assign",),
        "api": ("POST /api/bank/review/{line_id}/assign",),
    },
    "bank.review.split": {
        "web": ("web:bank_review_split",),
        "cli": ("bank review split",),
        "api": ("POST /api/bank/review/{line_id}/split",),
    },
    "bank.review.not_ours": {
        "web": ("web:bank_review_not_ours",),
        "cli": ("bank review not-ours",),
        "api": ("POST /api/bank/review/{line_id}/not-ours",),
    },
    "hold.place": {
        "cli": ("hold",),
        "web": ("web:account_hold",),
        "api": (f"POST {ACCOUNT}/holds",),
    },
    "hold.release": {
        "cli": ("release",),
        "web": ("web:account_release",),
        "api": (f"POST {ACCOUNT}/holds/{{hold_id}}/release",),
    },
    "referral.make": {
        "cli": ("refer",),
        "web": ("web:account_refer",),
        "api": (f"POST {ACCOUNT}/referrals",),
    },
    "firm.add": {"cli": ("firm add",), "api": ("POST /api/firms",)},
    "minutes.record": {"cli": ("legal minutes",), "web": ("web:agenda_minutes",)},
    "case.update": {
        "cli": ("case update",),
        "web": ("web:case_update",),
        "api": ("POST /api/cases/{case_id}/updates",),
    },
    # the weekly digest of case news to property managers, sent on a schedule (cron)
    "case.digest": {"cli": ("case digest",)},
    # a case's settlements and write-offs (arrears.legal.settlements)
    "settlement.offer": {
        "cli": ("settlement offer",),
        "web": ("web:case_settlement_offer",),
        "api": ("POST /api/cases/{case_id}/settlements",),
    },
    "settlement.approve": {
        "cli": ("settlement approve",),
        "web": ("web:case_settlement_approve",),
        "api": ("POST /api/cases/{case_id}/settlements/{settlement_id}/approve",),
    },
    "settlement.reject": {
        "cli": ("settlement reject",),
        "web": ("web:case_settlement_reject",),
        "api": ("POST /api/cases/{case_id}/settlements/{settlement_id}/reject",),
    },
    "settlement.check": {"cli": ("settlement check",)},
    "writeoff.post": {
        "cli": ("writeoff",),
        "web": ("web:account_writeoff",),
        "api": (f"POST {ACCOUNT}/writeoffs",),
    },
    "worklist.snooze": {
        "cli": ("worklist snooze",),
        "web": ("web:worklist_snooze",),
        "api": ("POST /api/worklist/snooze",),
    },
    "worklist.dismiss": {
        "cli": ("worklist dismiss",),
        "web": ("web:worklist_dismiss",),
        "api": ("POST /api/worklist/dismiss",),
    },
    "call.log": {
        "cli": ("call log",),
        "web": ("web:account_call",),
        "api": (f"POST {ACCOUNT}/calls",),
    },
    "promise.record": {
        "cli": ("promise add",),
        "web": ("web:account_promise",),
        "api": (f"POST {ACCOUNT}/promises",),
    },
    "plan.create": {
        "cli": ("plan create",),
        "web": ("web:account_plan",),
        "api": (f"POST {ACCOUNT}/plans",),
    },
    "plan.renegotiate": {"cli": ("plan renegotiate",)},
    "plan.cancel": {
        "cli": ("plan cancel",),
        "web": ("web:account_plan_cancel",),
        "api": (f"POST {ACCOUNT}/plans/{{plan_id}}/cancel",),
    },
    "dispute.open": {
        "cli": ("dispute open",),
        "web": ("web:account_dispute",),
        "api": (f"POST {ACCOUNT}/disputes",),
    },
    "dispute.resolve": {
        "cli": ("dispute resolve",),
        "web": ("web:account_dispute_resolve",),
        "api": (f"POST {ACCOUNT}/disputes/{{dispute_id}}/resolve",),
    },
    "notice.send": {"web": ("web:account_notice_send",), "api": (f"POST {ACCOUNT}/notices",)},
    "statement.send": {
        "cli": ("statement",),
        "web": ("web:account_statement",),
        "api": (f"POST {ACCOUNT}/statement",),
    },
    "party.update": {
        "cli": ("party update",),
        "web": ("web:account_party",),
        "api": ("PATCH /api/parties/{party_id}", "POST /api/parties/{party_id}"),
    },
    "consent.grant": {
        "cli": ("consent grant",),
        "web": ("web:account_consent",),
        "api": ("POST /api/parties/{party_id}/consents",),
    },
    "consent.withdraw": {
        "cli": ("consent withdraw",),
        "web": ("web:account_consent",),
        "api": ("POST /api/parties/{party_id}/consents/withdraw",),
    },
    "document.add": {
        "cli": ("document add",),
        "web": ("web:account_document_add",),
        "api": ("POST /api/accounts/{account_id}/documents",),
    },
    "letters.mailed": {"cli": ("letters mailed",), "web": ("web:letters_mailed",)},
    "letters.returned": {"cli": ("letters returned",), "web": ("web:letters_returned",)},
    "user.add": {"cli": ("user add",), "web": ("web:admin_users",)},
    "user.change": {"web": ("web:admin_user",)},
    "user.deactivate": {"web": ("web:admin_user_active",)},
    "user.password": {"cli": ("user password",), "web": ("web:admin_user_password",)},
    "token.issue": {"cli": ("user token",), "web": ("web:admin_user_token",)},
    "token.revoke": {"cli": ("user revoke",), "web": ("web:admin_user_token_revoke",)},
    "import": {"cli": ("import",), "api": ("POST /api/imports",)},
    # an insurer's X12 835 remittance posted to patient accounts (arrears.access.acts_remittance)
    "remittance.import": {"cli": ("remittance import",), "api": ("POST /api/remittances",)},
    "run": {"cli": ("run",), "api": ("POST /api/runs",)},
    "period.close": {
        "cli": ("period close",),
        "web": ("web:periods",),
        "api": ("POST /api/periods/close",),
    },
    "period.reopen": {
        "cli": ("period reopen",),
        "web": ("web:periods",),
        "api": ("POST /api/periods/reopen",),
    },
    "assignment.add": {
        "cli": ("assign",),
        "web": ("web:assignments",),
        "api": ("POST /api/assignments",),
    },
    "assignment.remove": {
        "cli": ("unassign",),
        "web": ("web:assignment_remove",),
        "api": ("POST /api/assignments/remove",),
    },
    "coverage.add": {
        "cli": ("coverage add",),
        "web": ("web:coverage_add",),
        "api": ("POST /api/coverage",),
    },
    "coverage.end": {
        "cli": ("coverage end",),
        "web": ("web:coverage_end",),
        "api": ("POST /api/coverage/{coverage_id}/end",),
    },
    "moveout.record": {
        "cli": ("moveout",),
        "web": ("web:account_moveout",),
        "api": (f"POST {ACCOUNT}/moveout",),
    },
    "deposit.dispose": {
        "cli": ("deposit dispose",),
        "web": ("web:account_deposit_dispose",),
        # the JSON route, and its multipart variant carrying receipts
        "api": (
            f"POST {ACCOUNT}/deposit/disposition",
            f"POST {ACCOUNT}/deposit/disposition/receipts",
        ),
    },
    "deposit.statement": {
        "cli": ("deposit statement",),
        "web": ("web:account_deposit_statement",),
        "api": (f"POST {ACCOUNT}/deposit/statement",),
    },
    # refunds of credit balances: the page and the API list them on GET (not in this table, as
    # every read), which proposes as `refund list` does
    "refund.list": {"cli": ("refund list",)},
    "refund.approve": {
        "cli": ("refund approve",),
        "web": ("web:refund_approve",),
        "api": ("POST /api/refunds/{refund_id}/approve",),
    },
    "refund.reject": {
        "cli": ("refund reject",),
        "web": ("web:refund_reject",),
        "api": ("POST /api/refunds/{refund_id}/reject",),
    },
    "refund.export": {
        "cli": ("refund export",),
        "web": ("web:refunds_export",),
        "api": ("POST /api/refunds/export",),
    },
    # reports sent by email on a schedule (arrears.access.acts_subscriptions); the send is the
    # scheduled job's (also a step of `run --subscriptions`)
    "subscription.add": {
        "cli": ("subscription add",),
        "web": ("web:subscriptions",),
        "api": ("POST /api/subscriptions",),
    },
    "subscription.change": {
        "cli": ("subscription pause", "subscription resume", "subscription recipients"),
        "web": (
            "web:subscription_pause",
            "web:subscription_resume",
            "web:subscription_recipients",
        ),
        "api": (
            "POST /api/subscriptions/{subscription_id}/pause",
            "POST /api/subscriptions/{subscription_id}/resume",
            "POST /api/subscriptions/{subscription_id}/recipients",
        ),
    },
    "subscription.remove": {
        "cli": ("subscription remove",),
        "web": ("web:subscription_remove",),
        "api": ("POST /api/subscriptions/{subscription_id}/remove",),
    },
    "subscription.send": {"cli": ("subscription send",)},
    # the monthly collection goals (arrears.access.acts_goals; test_parity_goals.py)
    "goal.set": {"cli": ("goal set",), "web": ("web:goals",), "api": ("POST /api/goals",)},
    "goal.import": {
        "cli": ("goal import",),
        "web": ("web:goals",),
        "api": ("POST /api/goals/import",),
    },
    "goal.propose": {"cli": ("goal propose",), "api": ("POST /api/goals/proposals",)},
    # Not yet one service each (docs/architecture.md, "Not yet moved"): each interface calls
    # `act` itself, and no parity case compares them.
    "letters.batch": {
        "cli": ("letters batch",),
        "web": ("web:letters_batch",),
        "api": ("POST /api/letters/batch",),
    },
    "mail.triage": {"cli": ("mail assign",), "web": ("web:mail_assign",)},
    "mail.answered": {"cli": ("mail answered",)},
    "mail.send": {"cli": ("mail send",)},
    "mail.fetch": {"cli": ("mail fetch",)},
    "sms.send": {"cli": ("sms send",)},
    "plan.send": {"cli": ("plan send",)},
    "policy.add": {"cli": ("policy add",), "web": ("web:admin_policies",)},
    "policy.assign": {"cli": ("policy assign",), "web": ("web:admin_policy_assign",)},
    "template.add": {"cli": ("template add",), "web": ("web:admin_template",)},
    "property.change": {"web": ("web:admin_property",)},
}
NOT_YET_MOVED = {"letters.batch", "mail.triage", "policy.add", "policy.assign", "template.add"}

# What is not the act's: the rows' own ids and the links between them, when they were
# written, who wrote them and through which interface.
# A row's place in the whole book (`book_position`) is where the other leases' rows left it.
DROPPED = {"id", "at", "actor", "made_by", "created_by", "referred_by", "username", "via", "ip"}
DROPPED |= {"book_position", "recorded_by"}
OWN_IDS = {"hold", "plan", "dispute", "promise", "referral", "letter", "outbound", "event"}
OWN_IDS |= {"coverage", "case", "settlement", "writeoff"}
OWN_IDS |= {"token"} | {f"{name}_id" for name in OWN_IDS}
# A document's digest, and the short one in its name: of a document that names its lease.
DIGEST = re.compile(r"\b[0-9a-f]{10,64}\b")


def generic(value: Any, tag: str, ids: set[int], *, whole: bool = False) -> Any:
    """`value` with the lease's own names (A-CLI, P-CLI, rita-cli@…; none when `tag` is empty)
    and its rows' ids made generic; `whole` keeps every key (an audit row's detail, which says
    what the act was asked)."""
    if isinstance(value, dict):
        return {
            k: "N" if k in OWN_IDS and isinstance(v, int) else generic(v, tag, ids, whole=whole)
            for k, v in value.items()
            if whole
            or (
                k not in DROPPED
                and not k.endswith("_at")
                and not (k.endswith("_id") and isinstance(v, int))
            )
        }
    if isinstance(value, list):
        return [generic(v, tag, ids, whole=whole) for v in value]
    if isinstance(value, str):
        text = value.replace(f"-{tag}", "-X").replace(f"-{tag.lower()}@", "-x@") if tag else value
        text = DIGEST.sub("H", text)
        for n in sorted(ids, reverse=True):
            # an id in a key (dispute:12:answer), a letter's name (L12), a sentence (plan 12,
            # promise 12), a credit's id (DSP-12-RENT-A-CLI; not a template's name:
            # ca-3-day-notice)
            words = r"\b[Hh]old |\b[Pp]lan |\b[Pp]romise |\b[Dd]ispute |\b[Cc]ase "
            words += r"|\b[Ss]ettlement "
            named = rf"(:|#|\bL|{words}|\b[A-Z]+-){n}\b(?![.-]\d)"
            text = re.sub(named, r"\1N", text)
        return text
    return value


def audit_generic(
    rows: list[dict[str, Any]], tag: str, ids: set[int], differs: frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    """Audit rows made generic: their verb, account and detail, whole but for the keys that
    `differs` names (what the interfaces say differently on purpose); not who wrote them,
    through which interface, from where or when."""
    return [
        {
            "verb": row["verb"],
            "account_id": generic(row["account_id"], tag, ids),
            "detail": generic(
                {k: v for k, v in row["detail"].items() if k not in differs}, tag, ids, whole=True
            ),
        }
        for row in rows
    ]


def audit_last() -> int:
    """The id of the last audit row written (0: none)."""
    return AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0


def audit_since(last: int, verb: str) -> list[dict[str, Any]]:
    """The audit rows of `verb` written after the row `last`."""
    return list(AuditEntry.objects.filter(id__gt=last, verb=verb).order_by("id").values())
