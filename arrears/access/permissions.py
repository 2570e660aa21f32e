"""Who may do what: the roles and the verbs each may perform (pure, no Django).

A verb is a dotted name for one kind of request (`account.view`, `note.add`, `hold.place`, …).
Scoping (which accounts a user sees) is not here but in `selectors.accounts_visible`; this table
only says whether a role may perform a verb at all. A part that brings new actions (calls,
promises, plans, disputes, letters) adds its verbs with `register(verb, roles)` from its own
adapter module, once, at import time.
"""

from __future__ import annotations

from collections.abc import Iterable

COORDINATOR = "coordinator"
MANAGER = "manager"
ATTORNEY = "attorney"
# a firm's paralegal: the firm's cases as its attorneys see them; notes, documents and the
# case's statuses, but nothing about money (a judgment, a settlement)
PARALEGAL = "paralegal"
CONTROLLER = "controller"
ADMIN = "admin"
ROLES = (COORDINATOR, MANAGER, ATTORNEY, PARALEGAL, CONTROLLER, ADMIN)
FIRM_ROLES = (ATTORNEY, PARALEGAL)  # the roles that belong to a firm and see its cases
EVERYONE = frozenset(ROLES)

_VERBS: dict[str, frozenset[str]] = {
    # reads: every role, each within its own scope
    "account.view": EVERYONE,
    "portfolio.view": EVERYONE,
    "worklist.view": EVERYONE,
    "search": EVERYONE,
    # the reports (arrears.reports: metrics, the balances over 60 days): read within the scope
    "report.view": EVERYONE,
    # changes on one account
    "note.add": frozenset({COORDINATOR, MANAGER, ATTORNEY, PARALEGAL, ADMIN}),
    "hold.place": frozenset({COORDINATOR, ADMIN}),
    # money received (arrears.ledger.payments): posted at the desk or by a system's token; a
    # property's manager takes payments at their properties' office
    "payment.post": frozenset({COORDINATOR, MANAGER, CONTROLLER, ADMIN}),
    "hold.release": frozenset({COORDINATOR, ADMIN}),
    "referral.make": frozenset({COORDINATOR, ADMIN}),
    # firms and their cases (arrears.legal): the company adds firms; a case's steps are
    # recorded by the firm's users (their firm's cases only, a paralegal nothing about money)
    # and by the coordinator, who alone recalls a case
    "firm.add": frozenset({ADMIN}),
    "firm.view": frozenset({COORDINATOR, MANAGER, CONTROLLER, ADMIN}),
    "case.view": EVERYONE,
    "case.update": frozenset({COORDINATOR, ATTORNEY, PARALEGAL, ADMIN}),
    # the monthly meeting with a firm: its agenda read by the company and the firm's users, its
    # minutes recorded by the coordinator or the firm's attorney
    "agenda.view": frozenset({COORDINATOR, ATTORNEY, PARALEGAL, CONTROLLER, ADMIN}),
    "minutes.record": frozenset({COORDINATOR, ATTORNEY, ADMIN}),
    "call.log": frozenset({COORDINATOR, ADMIN}),
    "promise.record": frozenset({COORDINATOR, ADMIN}),
    "plan.create": frozenset({COORDINATOR, ADMIN}),
    "plan.cancel": frozenset({COORDINATOR, ADMIN}),
    "plan.renegotiate": frozenset({COORDINATOR, ADMIN}),  # the CLI's `plan renegotiate`
    "plan.send": frozenset({COORDINATOR, ADMIN}),  # the CLI's `plan send`: the agreement emailed
    "dispute.open": frozenset({COORDINATOR, ADMIN}),
    "dispute.resolve": frozenset({COORDINATOR, ADMIN}),
    # move-out and the security deposit (arrears.moveout): a property's manager knows the day
    "moveout.record": frozenset({COORDINATOR, MANAGER, ADMIN}),
    "deposit.dispose": frozenset({COORDINATOR, ADMIN}),
    # refunds of credit balances (arrears.moveout.refunds): money leaves the company, so a
    # controller (or an admin) decides and exports; a manager sees their properties' refunds
    "refund.list": frozenset({COORDINATOR, MANAGER, CONTROLLER, ADMIN}),
    "refund.approve": frozenset({CONTROLLER, ADMIN}),
    "refund.reject": frozenset({CONTROLLER, ADMIN}),
    "refund.export": frozenset({CONTROLLER, ADMIN}),
    # a case's settlements and write-offs (arrears.legal.settlements): the coordinator or the
    # firm's attorney offers a settlement, a manager of the property, a controller or an admin
    # approves or rejects it; only a controller or an admin writes a balance off to bad debt
    "settlement.offer": frozenset({COORDINATOR, ATTORNEY, ADMIN}),
    "settlement.approve": frozenset({MANAGER, CONTROLLER, ADMIN}),
    "settlement.reject": frozenset({MANAGER, CONTROLLER, ADMIN}),
    "settlement.check": frozenset({COORDINATOR, CONTROLLER, ADMIN}),
    "writeoff.post": frozenset({CONTROLLER, ADMIN}),
    "writeoff.view": frozenset({COORDINATOR, MANAGER, ATTORNEY, CONTROLLER, ADMIN}),
    "deposit.statement": frozenset({COORDINATOR, ADMIN}),  # the itemized statement, mailed
    # a statement is archived and written on the timeline: a change, not a read
    "statement.send": frozenset({COORDINATOR, ADMIN}),
    "notice.preview": frozenset({COORDINATOR, ADMIN}),
    "notice.send": frozenset({COORDINATOR, ADMIN}),
    # the account's record kept from the desk: a party's contact points and consent, a document
    "party.update": frozenset({COORDINATOR, ADMIN}),
    "consent.grant": frozenset({COORDINATOR, ADMIN}),
    "consent.withdraw": frozenset({COORDINATOR, ADMIN}),
    "document.add": frozenset({COORDINATOR, ATTORNEY, PARALEGAL, ADMIN}),
    # reads of one account's documents (letters, statements, emails): within the user's scope
    # (an attorney's is the accounts referred to the firm: their case documents)
    "document.view": EVERYONE,
    # the letters page: managers see their properties' letters; only coordinators act on them
    "letters.view": frozenset({COORDINATOR, MANAGER, CONTROLLER, ADMIN}),
    "letters.manage": frozenset({COORDINATOR, ADMIN}),
    # unmatched inbound mail belongs to no account yet: only those who see the whole book
    "mail.triage": frozenset({COORDINATOR, ADMIN}),
    "mail.answered": frozenset({COORDINATOR, ADMIN}),  # a message taken off the worklist
    # who works which account (access.assignments): a coordinator takes or gives up accounts
    # for herself and arranges her own backup; a manager (within their properties) or an admin
    # assigns anyone ("assignment.others"); an admin arranges anyone's backup (a coverage is
    # not of one property: a manager's scope cannot bound it)
    "assignment.view": frozenset({COORDINATOR, MANAGER, CONTROLLER, ADMIN}),
    "assignment.add": frozenset({COORDINATOR, MANAGER, ADMIN}),
    "assignment.remove": frozenset({COORDINATOR, MANAGER, ADMIN}),
    "coverage.add": frozenset({COORDINATOR, ADMIN}),
    "coverage.end": frozenset({COORDINATOR, ADMIN}),
    "assignment.others": frozenset({MANAGER, ADMIN}),
    "worklist.own": frozenset({COORDINATOR, ADMIN}),  # may be given accounts, or cover
    "worklist.snooze": frozenset({COORDINATOR, ADMIN}),  # a line put off until a date
    "worklist.dismiss": frozenset({COORDINATOR, ADMIN}),  # a line taken off, with a reason
    # changes on the whole book
    "run.dry": frozenset({COORDINATOR, ADMIN}),
    "run.real": frozenset({COORDINATOR, ADMIN}),
    "import": frozenset({ADMIN}),
    # the command line's system jobs, when a user is named to run them (`--as`)
    "mail.send": frozenset({COORDINATOR, ADMIN}),
    "mail.fetch": frozenset({COORDINATOR, ADMIN}),
    "sms.send": frozenset({COORDINATOR, ADMIN}),
    "demo.build": frozenset({ADMIN}),
    # closed periods: a controller closes a month, reopens it with a reason (ledger.periods)
    "period.view": frozenset({CONTROLLER, ADMIN}),
    "period.close": frozenset({CONTROLLER, ADMIN}),
    "period.reopen": frozenset({CONTROLLER, ADMIN}),
    # the admin's pages (users and roles, properties, policies, templates) and their changes
    "admin.users": frozenset({ADMIN}),
    "admin.properties": frozenset({ADMIN}),
    "admin.policies": frozenset({ADMIN}),
    "admin.templates": frozenset({ADMIN}),
    "admin.audit": frozenset({ADMIN}),  # the audit log: every change and sign-in, and its export
    "user.add": frozenset({ADMIN}),
    "user.change": frozenset({ADMIN}),
    "user.deactivate": frozenset({ADMIN}),
    "user.reactivate": frozenset({ADMIN}),
    "token.issue": frozenset({ADMIN}),
    "token.revoke": frozenset({ADMIN}),
    "user.password": frozenset({ADMIN}),
    "property.change": frozenset({ADMIN}),
    "policy.add": frozenset({ADMIN}),
    "policy.assign": frozenset({ADMIN}),
    "template.add": frozenset({ADMIN}),
}


def register(verb: str, roles: Iterable[str]) -> None:
    """Declare a verb and the roles that may perform it; raises ValueError on an unknown role."""
    wanted = frozenset(roles)
    unknown = wanted - EVERYONE
    if unknown:
        raise ValueError(f"unknown roles for {verb}: {', '.join(sorted(unknown))}")
    _VERBS[verb] = wanted


def allowed(role: str | None, verb: str) -> bool:
    """Whether `role` may perform `verb`; an unknown verb is allowed to no one."""
    return role is not None and role in _VERBS.get(verb, frozenset())


def verbs() -> dict[str, frozenset[str]]:
    return dict(_VERBS)


def sees_everything(role: str | None) -> bool:
    """Coordinators, controllers and admins see the whole book (one company per installation)."""
    return role in (COORDINATOR, CONTROLLER, ADMIN)
