"""Who does an act on the book and how it is run: `By` (the actor, the interface, the address)
and the two ways an act is authorized and audited (`services.act`, `services.act_job`), which
every act of `arrears.access.acts` goes through."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from arrears.access import services

T = TypeVar("T")


@dataclass(frozen=True)
class By:
    """Who does an act (a user, or the operator's `SystemActor`), through which interface
    ("web", "api", "cli", "system"), from which address (the pages and the API)."""

    actor: Any
    via: str
    ip: str = ""

    @property
    def name(self) -> str:
        """The name the timeline records."""
        return str(self.actor.get_username())


def run_act(
    by: By,
    verb: str,
    *,
    detail: dict[str, Any],
    do: Callable[[Any], T],
    account_id: str | None = None,
) -> T:
    """`services.act` for `by`: authorized, run in one transaction with its audit row."""
    return services.act(
        user=by.actor, verb=verb, via=by.via, ip=by.ip, account_id=account_id, detail=detail, do=do
    )


def run_job(
    by: By, verb: str, *, detail: dict[str, Any], do: Callable[[], T], account_id: str | None = None
) -> T:
    """`services.act_job` for `by`: authorized, run, then audited (it commits as it goes)."""
    return services.act_job(
        user=by.actor, verb=verb, via=by.via, ip=by.ip, account_id=account_id, detail=detail, do=do
    )


def money_text(value: Decimal | None) -> str:
    """An amount as the audit row keeps it: two decimals, or empty."""
    return "" if value is None else f"{value:.2f}"
