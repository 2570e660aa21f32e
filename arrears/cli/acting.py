"""Who acts when the `arrears` command changes the book.

A change is made by the Arrears user the command names, `arrears --as USER …` (or `--as USER`
after the command), else ARREARS_USER; it goes through `access.services.act` as the same change
on the pages does (the user's role and scope, the same audit verb and detail, via "cli"). With no
user named, the system jobs (`run`, `import`, `letters batch`, `mail send`, `mail fetch`, `sms
send`, `demo`), and the `user` commands while there is no active admin (the first users), run as
the operator: `system:<OS login>`, via "system". Any other change is refused (exit 2), saying how
to name a user. Reads need no user.
"""

from __future__ import annotations

import argparse
import getpass
import os
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def acting(args: argparse.Namespace, *, system: bool = False) -> Any:
    """Who makes this command's change: the active Arrears user named by `--as` or ARREARS_USER;
    with none named, the operator (`SystemActor`, the OS login) when `system` (a system job, or
    the first users), else UserNotNamedError. NotFoundError for a name that is no active user.
    """
    from arrears.access.errors import UserNotNamedError
    from arrears.access.selectors import user_active
    from arrears.access.services import SystemActor
    from arrears.core.errors import NotFoundError

    named = getattr(args, "as_user", None)
    name = named or os.environ.get("ARREARS_USER", "")
    if name:
        user = user_active(username=name)
        if user is None:
            where = "--as" if named else "ARREARS_USER"
            raise NotFoundError(
                f"no active Arrears user {name!r} (named by {where})", username=name
            )
        return user
    if system:
        return SystemActor(getpass.getuser())
    raise UserNotNamedError(
        "name the Arrears user who does this: `arrears --as USER ...` or ARREARS_USER=USER "
        "(an active user of the pages; `arrears user add` adds one)"
    )


def via(who: Any) -> str:
    """The audit's `via` of a change by `who`: "system" for the operator, else "cli"."""
    from arrears.access.services import SystemActor

    return "system" if isinstance(who, SystemActor) else "cli"


def cli_act(
    args: argparse.Namespace,
    verb: str,
    *,
    detail: dict[str, Any],
    do: Callable[[Any], T],
    account_id: str | None = None,
    system: bool = False,
) -> T:
    """`access.services.act` for a command: the user `acting` names (or the operator, for a
    system job), authorized for `verb` (on `account_id`) as on the pages, `do(account)` and its
    audit row in one transaction."""
    from arrears.access.services import act

    who = acting(args, system=system)
    return act(user=who, verb=verb, via=via(who), account_id=account_id, detail=detail, do=do)


def cli_job(
    args: argparse.Namespace,
    verb: str,
    *,
    detail: dict[str, Any],
    do: Callable[[str], T],
    account_id: str | None = None,
    system: bool = True,
) -> T:
    """`access.services.act_job` for a change that commits as it goes (a system job, an email
    sent at once): `do(the actor's name)` by the user named, or the operator (when `system`)."""
    from arrears.access.services import act_job

    who = acting(args, system=system)
    return act_job(
        user=who,
        verb=verb,
        via=via(who),
        account_id=account_id,
        detail=detail,
        do=lambda: do(who.get_username()),
    )


def by(args: argparse.Namespace, *, system: bool = False) -> Any:
    """Who does a command's act (`arrears.access.acts`): the user `acting` names (or the
    operator, for a system job), through the command line."""
    from arrears.access.acts import By

    who = acting(args, system=system)
    return By(who, via(who))


def actor_name(args: argparse.Namespace, *, system: bool = False) -> str:
    """The name the timeline records for this command's change (see `acting`)."""
    return str(acting(args, system=system).get_username())
