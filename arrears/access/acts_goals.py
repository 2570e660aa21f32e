"""The acts of the monthly collection goals (docs/metrics.md, "Forecast vs actual"): set one, import
a CSV of them, propose them from the last 12 months' collection rate (and set the proposals),
list them. The command line, the goals page and the API call these and nothing else.

Who may: a coordinator, a controller or an admin, any goal; a property's manager the goals of
their properties, and of a portfolio all of whose properties are theirs, never the book's. A
changed goal keeps its history on the audit log: each act's row says what each goal it set was
before (`was`, null for a new one) and what it became.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext_lazy as _

from arrears.access import permissions
from arrears.access.acting import By, money_text, run_act
from arrears.access.errors import ForbiddenError
from arrears.access.selectors import authorize, profile_of
from arrears.access.services import SystemActor
from arrears.core.dates import today
from arrears.core.errors import NotFoundError, ValidationError
from arrears.core.fields import from_cents
from arrears.ledger.interchange.errors import BookImportError, Problem
from arrears.ledger.models import Account, Property
from arrears.reports import goal_store, goals
from arrears.reports.models import CollectionGoal

GOAL_ROLES = (
    permissions.COORDINATOR,
    permissions.MANAGER,
    permissions.CONTROLLER,
    permissions.ADMIN,
)
for _verb in ("goal.view", "goal.set", "goal.import", "goal.propose"):
    permissions.register(_verb, GOAL_ROLES)

FILE_LIMIT = 200  # a file's name as the audit row keeps it


def _manager_properties(by: By) -> set[str] | None:
    """The property ids a manager acts on (None: anyone else, who acts on every goal)."""
    if isinstance(by.actor, SystemActor):
        return None
    profile = profile_of(by.actor)
    if profile is None or profile.role != permissions.MANAGER:
        return None
    pks = profile.property_pks  # type: ignore[attr-defined]
    return set(Property.objects.filter(pk__in=pks).values_list("property_id", flat=True))


def _portfolio_properties(key: str) -> set[str]:
    return set(Property.objects.filter(portfolio=key).values_list("property_id", flat=True))


def may_touch(mine: set[str] | None, kind: str, key: str) -> bool:
    """Whether a manager of the properties `mine` (None: not a manager) may set or read the
    goal of (kind, key)."""
    if mine is None:
        return True
    if kind == "property":
        return key in mine
    if kind == "portfolio":
        found = _portfolio_properties(key)
        return bool(found) and found <= mine
    return False


def _refuse_out_of_scope(by: By, kind: str, key: str) -> None:
    if not may_touch(_manager_properties(by), kind, key):
        raise ForbiddenError(
            _("{target} is not among your properties"),
            code="goal_out_of_scope",
            target=f"{kind} {key}".strip(),
        )


def _kind(kind: str) -> str:
    if kind not in goals.KINDS:
        raise ValidationError(
            _("a goal is of a {choices}, not {kind!r}"),
            code="goal_scope_unknown",
            choices=", ".join(goals.KINDS),
            kind=kind,
            field="scope",
        )
    return kind


def _key(kind: str, key: str) -> str:
    key = "" if kind == "book" else key.strip()
    if key not in goal_store.keys_of_book(kind):
        raise NotFoundError(
            _("no {kind} {key!r} in the book"),
            code="goal_key_not_found",
            kind=kind,
            key=key,
            field="key",
        )
    return key


def _currency(kind: str, key: str, currency: str | None) -> str:
    """The goal's currency: the one named, else its scope's accounts' if they have one."""
    if currency:
        currency = currency.strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            raise ValidationError(
                _("{currency!r} is not a currency code"),
                code="currency_invalid",
                currency=currency,
                field="currency",
            )
        return currency
    held = goal_store.currencies_of(kind, key)
    if len(held) > 1:
        raise ValidationError(
            _("the accounts are in several currencies ({currencies}): name one"),
            code="currency_needed",
            currencies=", ".join(held),
            field="currency",
        )
    return held[0] if held else str(Account._meta.get_field("currency").default)


def _amount(amount: Decimal | str) -> Decimal:
    try:
        value = Decimal(str(amount).strip())
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or value != value.quantize(Decimal("0.01")) or value <= 0:
        raise ValidationError(
            _("a goal is an amount more than zero with at most two decimals, not {amount}"),
            code="goal_amount_invalid",
            amount=str(amount)[:30],
            field="amount",
        )
    return value


def _change(put: goal_store.Put) -> dict[str, Any]:
    g = put.goal
    return {
        "month": f"{g.month:%Y-%m}",
        "scope": g.scope_kind,
        "key": g.scope_key,
        "currency": g.currency,
        "amount": money_text(g.amount),
        "was": money_text(put.was) if put.was is not None else None,
        "source": g.source,
    }


def goal_set(
    *,
    by: By,
    month: date,
    kind: str,
    key: str,
    amount: Decimal | str,
    currency: str | None = None,
) -> CollectionGoal:
    """Set the goal of `month` for a property, a portfolio or the book (created, or changed: its
    audit row says what it was). Raises ValidationError, NotFoundError, ForbiddenError."""
    first = month.replace(day=1)
    detail: dict[str, Any] = {"month": f"{first:%Y-%m}", "scope": kind, "key": key[:64]}

    def do(_account: Any) -> CollectionGoal:
        found = _kind(kind)
        code = _key(found, key)
        _refuse_out_of_scope(by, found, code)
        value = _amount(amount)
        put = goal_store.goal_put(
            month=first,
            kind=found,
            key=code,
            currency=_currency(found, code, currency),
            amount=value,
            source="entered",
            actor=by.name,
        )
        detail.update(_change(put))
        return put.goal

    return run_act(by, "goal.set", detail=detail, do=do)


def goal_import(*, by: By, text: str, name: str) -> list[CollectionGoal]:
    """Set the goals of a CSV (`goals.read_goals_csv`), all or none: BookImportError lists every
    problem (file, line, column, reason) and nothing is set."""
    detail: dict[str, Any] = {"file": name[:FILE_LIMIT]}

    def do(_account: Any) -> list[CollectionGoal]:
        rows, raw = goals.read_goals_csv(text)
        problems = [Problem(name, p.line, p.column, p.reason) for p in raw]
        mine = _manager_properties(by)
        keys = {kind: goal_store.keys_of_book(kind) for kind in goals.IMPORT_KINDS}
        ready = []
        seen: dict[tuple[date, str, str, str], int] = {}
        for row in rows:
            if row.key not in keys[row.kind]:
                problems.append(Problem(name, row.line, "key", f"no {row.kind} {row.key!r}"))
                continue
            if not may_touch(mine, row.kind, row.key):
                reason = f"{row.kind} {row.key} is not among your properties"
                problems.append(Problem(name, row.line, "key", reason))
                continue
            currency = row.currency
            if not currency:
                held = goal_store.currencies_of(row.kind, row.key)
                if len(held) > 1:
                    reason = f"its accounts are in several currencies ({', '.join(held)})"
                    problems.append(Problem(name, row.line, "currency", reason))
                    continue
                currency = held[0] if held else _currency(row.kind, row.key, None)
            twin = seen.setdefault((row.month, row.kind, row.key, currency), row.line)
            if twin != row.line:
                problems.append(Problem(name, row.line, "key", f"the same goal as line {twin}"))
                continue
            ready.append((row, currency))
        if problems:
            raise BookImportError(sorted(problems, key=lambda p: p.line))
        puts = [
            goal_store.goal_put(
                month=row.month,
                kind=row.kind,
                key=row.key,
                currency=currency,
                amount=from_cents(row.amount),
                source="imported",
                actor=by.name,
            )
            for row, currency in ready
        ]
        detail["goals"] = [_change(p) for p in puts]
        return [p.goal for p in puts]

    return run_act(by, "goal.import", detail=detail, do=do)


@dataclass(frozen=True)
class Proposal:
    """A goal proposed for (kind, key, currency): `rate` over the window's months, times the
    charges due in the month (`base`: "month"), or in the window's last month when the month's
    are not in the book yet (`base`: "last_month")."""

    month: date
    kind: str
    key: str
    currency: str
    window_first: date
    window_last: date
    due_window: int
    collected_window: int
    rate: Decimal | None
    due_month: int
    base: str
    amount: int

    def as_json(self) -> dict[str, Any]:
        return {
            "month": f"{self.month:%Y-%m}",
            "scope": self.kind,
            "key": self.key,
            "currency": self.currency,
            "window": [f"{self.window_first:%Y-%m}", f"{self.window_last:%Y-%m}"],
            "due_window": f"{from_cents(self.due_window):.2f}",
            "collected_window": f"{from_cents(self.collected_window):.2f}",
            "rate": None if self.rate is None else f"{self.rate}",
            "due_month": f"{from_cents(self.due_month):.2f}",
            "base": self.base,
            "amount": f"{from_cents(self.amount):.2f}",
        }


def proposals(*, month: date, kind: str, on: date, mine: set[str] | None = None) -> list[Proposal]:
    """The goals proposed for `month` for each key of `kind` (those a manager of `mine` may
    touch), from the book: see `goals.rate_window`, `goals.collection_rate`."""
    target = goals.Month.of(month)
    start, end = goals.rate_window(target, on)
    window = goal_store.due_and_collected(kind, start.first, end.last, None)
    due = goal_store.due_and_collected(kind, target.first, target.last, None)
    last = goal_store.due_and_collected(kind, end.first, end.last, None)
    out = []
    for name in sorted(set(window) | set(due)):
        key, currency = name
        if (kind != "book" and not key) or not may_touch(mine, kind, key):
            continue
        due_window, collected_window = window.get(name, (0, 0))
        rate = goals.collection_rate(collected_window, due_window)
        due_month, base = due.get(name, (0, 0))[0], "month"
        if due_month <= 0:
            due_month, base = last.get(name, (0, 0))[0], "last_month"
        out.append(
            Proposal(
                target.first,
                kind,
                key,
                currency,
                start.first,
                end.last,
                due_window,
                collected_window,
                rate,
                due_month,
                base,
                goals.proposal(rate, due_month),
            )
        )
    return out


def goal_propose(*, by: By, month: date, kind: str, apply: bool = False) -> list[Proposal]:
    """The goals proposed for `month` by `kind` (`proposals`); with `apply`, each of more than
    zero is set, source "proposed" (an act: audited with what each was). Without, a read."""
    found = _kind(kind)
    mine = _manager_properties(by)
    if not apply:
        if not isinstance(by.actor, SystemActor):
            authorize(by.actor, "goal.propose")
        return proposals(month=month, kind=found, on=today(), mine=mine)
    detail: dict[str, Any] = {"month": f"{month:%Y-%m}", "scope": found}

    def do(_account: Any) -> list[Proposal]:
        if mine is not None and found == "book":
            _refuse_out_of_scope(by, found, "")
        made = proposals(month=month, kind=found, on=today(), mine=mine)
        puts = [
            goal_store.goal_put(
                month=p.month,
                kind=p.kind,
                key=p.key,
                currency=p.currency,
                amount=from_cents(p.amount),
                source="proposed",
                actor=by.name,
            )
            for p in made
            if p.amount > 0
        ]
        detail["goals"] = [_change(p) for p in puts]
        return made

    return run_act(by, "goal.propose", detail=detail, do=do)


def goal_list(*, by: By, month: date, kind: str | None = None) -> list[CollectionGoal]:
    """The goals of `month` (of one kind) that `by` may read: a manager, those of their
    properties and of their whole portfolios."""
    if not isinstance(by.actor, SystemActor):
        authorize(by.actor, "goal.view")
    mine = _manager_properties(by)
    found = goal_store.goals_of(month=month.replace(day=1), kind=_kind(kind) if kind else None)
    return [g for g in found if may_touch(mine, g.scope_kind, g.scope_key)]


def goal_json(goal: CollectionGoal) -> dict[str, Any]:
    """A goal as the command's and the API's JSON."""
    return {
        "month": f"{goal.month:%Y-%m}",
        "scope": goal.scope_kind,
        "key": goal.scope_key,
        "currency": goal.currency,
        "amount": f"{goal.amount:.2f}",
        "source": goal.source,
        "set_by": goal.set_by,
        "set_at": goal.set_at.isoformat(),
    }
