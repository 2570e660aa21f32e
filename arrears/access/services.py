"""Writes of the access part: users, tokens, sign-in throttling and its audit, the audited acts
on properties and periods, and `act`, the audited gateway through which the web pages, the API
and the command line make every change (a referral, for one, is `act` around
`legal.services.referral_make`).

`act(user=…, verb=…, account_id=…, via=…, do=…)` authorizes (role and scope, through
`selectors.authorize`), runs `do(account)` and writes an `AuditEntry`, all in one transaction: a
change without its audit row cannot be committed, and a refused request changes nothing. The
actor is a signed-in user (the pages, the API), the Arrears user the command line names (`--as`,
ARREARS_USER; via "cli"), or a `SystemActor`: the operator running a system job from the command
line (the daily run, an import, mail, the letters batch, the demo; via "system"), recorded as
`system:<login>` and not authorized, since whoever runs the command holds the database. Every
service that changes something takes its actor: none has a default.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from arrears.access import permissions
from arrears.access.errors import LockedOutError
from arrears.access.models import ApiToken, AuditEntry, LoginFailure, Profile
from arrears.access.selectors import authorize
from arrears.core.errors import DomainError, NotFoundError, ValidationError
from arrears.ledger import periods, properties
from arrears.ledger.models import Account, PeriodEvent, Property
from arrears.ledger.selectors import account_get

T = TypeVar("T")


@dataclass(frozen=True)
class SystemActor:
    """The operator of a system job run from the command line with no Arrears user named: the
    daily run, an import, mail, texts, the letters batch, the demo, and the first users added
    while there is no active admin. Its audit rows say `system:<login>` (the OS login), via
    "system"; it is not authorized (whoever runs the command holds the database)."""

    login: str

    @property
    def username(self) -> str:
        return f"system:{self.login[:64]}"

    def get_username(self) -> str:
        return self.username


def act(
    *,
    user: Any,
    verb: str,
    via: str,
    do: Callable[[Account | None], T],
    account_id: str | None = None,
    ip: str = "",
    detail: dict[str, Any] | None = None,
) -> T:
    """Authorize `user` for `verb` (on `account_id`), run `do(account)`, write the audit row.

    A `SystemActor` is recorded, not authorized (the account is looked up in the whole book).
    Raises what `authorize` raises, or what `do` raises (then nothing is written).
    """
    account = _authorized(user, verb, account_id)
    with transaction.atomic():
        result = do(account)
        audit_write(
            user=user, verb=verb, via=via, account_id=account_id or "", ip=ip, detail=detail or {}
        )
    return result


def _authorized(user: Any, verb: str, account_id: str | None) -> Account | None:
    """The account `account_id` names, once `user` may do `verb` on it (`authorize`); a
    SystemActor is not authorized, the account is looked up in the whole book."""
    if isinstance(user, SystemActor):
        return account_get(account_id=account_id) if account_id is not None else None
    return authorize(user, verb, account_id)


def act_job(
    *,
    user: Any,
    verb: str,
    via: str,
    do: Callable[[], T],
    account_id: str | None = None,
    ip: str = "",
    detail: dict[str, Any] | None = None,
) -> T:
    """`act` for a change that commits as it goes: a job over the book (the daily run, the
    letters batch, sending and fetching mail, texts, the demo), whose commits are what let it be
    run again after a crash, or an email sent at once (its try is committed before the server
    sees it, so that it is never sent twice). It cannot be held in one transaction with its
    audit row: it is authorized first (role, and scope on `account_id`; a SystemActor is not),
    run, then its audit row is written. A change that raised a DomainError gets its row with
    `failed` (the error's code) in the detail, what it did before that being on the timeline,
    and the error is raised again.
    """
    _authorized(user, verb, account_id)
    detail = dict(detail or {})
    row = {"user": user, "verb": verb, "via": via, "account_id": account_id or "", "ip": ip}
    try:
        result = do()
    except DomainError as exc:
        audit_write(**row, detail={**detail, "failed": exc.code})
        raise
    audit_write(**row, detail=detail)
    return result


def audit_write(
    *,
    user: Any,
    verb: str,
    via: str,
    account_id: str = "",
    ip: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    is_user = getattr(user, "pk", None) is not None
    return AuditEntry.objects.create(
        at=timezone.now(),
        user=user if is_user else None,
        username=getattr(user, "username", "") or str(user or ""),
        via=via,
        verb=verb,
        account_id=account_id,
        ip=ip[:45],
        detail=detail or {},
    )


def _audited(
    *, actor: Any, verb: str, via: str, ip: str, detail: dict[str, Any], do: Callable[[], T]
) -> T:
    """Run `do()` and write its audit row, in one transaction, through `act` (the actor is
    authorized for `verb`, unless it is a SystemActor). The row is written after `do` runs, so
    `do` may add to `detail` (what was there before the change).
    """
    return act(user=actor, verb=verb, via=via, ip=ip, detail=detail, do=lambda _account: do())


USERNAME_LIMIT = 150  # Django's User.username
FIRM_LIMIT = 100  # Profile.firm


def _scope(*, role: str, properties: Iterable[str], firm: str) -> tuple[list[Property], str]:
    """A role's scope checked: a manager's properties (found), an attorney's firm (stripped).

    Raises ValidationError (an unknown role, a scope the role does not take or lacks) or
    NotFoundError (an unknown property); `extra["field"]` names the field at fault.
    """
    if role not in permissions.ROLES:
        raise ValidationError(
            _("a role is one of {choices}"),
            code="role_unknown",
            choices=", ".join(permissions.ROLES),
            role=role,
            field="role",
        )
    wanted = list(dict.fromkeys(p.strip() for p in properties if p.strip()))
    firm = firm.strip()
    if role == permissions.MANAGER and not wanted:
        raise ValidationError(
            _("a property manager needs properties"),
            code="manager_properties_missing",
            field="properties",
        )
    if role != permissions.MANAGER and wanted:
        raise ValidationError(
            _("only a property manager is limited to properties"),
            code="properties_not_for_role",
            role=role,
            field="properties",
        )
    if role in permissions.FIRM_ROLES and not firm:
        raise ValidationError(
            _("an attorney or a paralegal needs a firm"),
            code="attorney_firm_missing",
            field="firm",
        )
    if role not in permissions.FIRM_ROLES and firm:
        raise ValidationError(
            _("only an attorney or a paralegal belongs to a firm"),
            code="firm_not_for_role",
            role=role,
            field="firm",
        )
    if len(firm) > FIRM_LIMIT:
        raise ValidationError(
            _("a firm's name is at most {limit} characters"),
            code="firm_too_long",
            limit=FIRM_LIMIT,
            field="firm",
        )
    found = {p.property_id: p for p in Property.objects.filter(property_id__in=wanted)}
    missing = [p for p in wanted if p not in found]
    if missing:
        raise NotFoundError(
            _("no property {names}"),
            code="property_not_found",
            names=", ".join(missing),
            properties=missing,
            field="properties",
        )
    return [found[p] for p in wanted], firm


def _user(username: str) -> Any:
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise NotFoundError(_("no user {username!r}"), code="user_not_found", username=username)
    return user


def _scope_of(user: Any) -> dict[str, Any]:
    profile = Profile.objects.filter(user=user).first()
    if profile is None:
        return {"role": "", "properties": [], "firm": ""}
    properties = sorted(profile.properties.values_list("property_id", flat=True))
    return {"role": profile.role, "properties": properties, "firm": profile.firm}


def _password_checked(user: Any, password: str) -> None:
    """Set `user`'s password (not saved) once Django's validators pass it; ValidationError
    (field "password") says why not."""
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationError(
            "; ".join(exc.messages), code="password_refused", field="password"
        ) from None
    user.set_password(password)


def user_add(
    *,
    username: str,
    password: str,
    role: str,
    properties: Iterable[str] = (),
    firm: str = "",
    email: str | None = "",
    actor: Any,
    via: str,
    ip: str = "",
) -> Any:
    """Create a user with a role; a manager's properties and an attorney's firm are required.
    `email` is where the user's report subscriptions are sent (none: they get none).

    `actor` is the user doing it (authorized for `user.add`) or a SystemActor. Raises
    ValidationError (unknown role, weak password, missing scope, user exists) or NotFoundError
    (an unknown property), with `extra["field"]` naming the field at fault.
    """
    username = username.strip()
    wanted = [p.strip() for p in properties if p.strip()]
    detail = {
        "username": username,
        "role": role,
        "properties": wanted,
        "firm": firm.strip(),
        "email": (email or "").strip(),
    }

    def create() -> Any:
        if not username:
            raise ValidationError(
                _("a user needs a name"), code="username_missing", field="username"
            )
        found, firm_name = _scope(role=role, properties=wanted, firm=firm)
        user_model = get_user_model()
        try:
            user_model.username_validator(username)
        except DjangoValidationError as exc:
            raise ValidationError(
                "; ".join(exc.messages), code="username_invalid", field="username"
            ) from None
        if len(username) > USERNAME_LIMIT:
            raise ValidationError(
                _("a user name is at most {limit} characters"),
                code="username_too_long",
                limit=USERNAME_LIMIT,
                field="username",
            )
        if user_model.objects.filter(username=username).exists():
            raise ValidationError(
                _("user {username!r} already exists"),
                code="user_exists",
                username=username,
                field="username",
            )
        user = user_model(username=username, email=_email_checked(email or ""))
        _password_checked(user, password)
        user.save()
        profile = Profile.objects.create(user=user, role=role, firm=firm_name)
        profile.properties.set(found)
        return user

    return _audited(actor=actor, verb="user.add", via=via, ip=ip, detail=detail, do=create)


def user_change(
    *,
    username: str,
    role: str,
    properties: Iterable[str] = (),
    firm: str = "",
    email: str | None = None,
    actor: Any,
    via: str,
    ip: str = "",
) -> Any:
    """Change a user's role and scope (a manager's properties, an attorney's firm) and, unless
    `email` is None, their email address; takes effect on the user's next request. The audit row
    holds the scope before and after.

    Raises NotFoundError (no such user, an unknown property) or ValidationError (as `user_add`,
    or the change would leave no active admin).
    """
    wanted = [p.strip() for p in properties if p.strip()]
    detail: dict[str, Any] = {
        "username": username,
        "after": {"role": role, "properties": sorted(wanted), "firm": firm.strip()},
    }
    if email is not None:
        detail["after"]["email"] = email.strip()

    def change() -> Any:
        user = _user(username)
        found, firm_name = _scope(role=role, properties=wanted, firm=firm)
        if role != permissions.ADMIN:
            _keep_an_admin(user)
        detail["before"] = _scope_of(user)
        if email is not None:
            detail["before"]["email"] = user.email
            user.email = _email_checked(email)
            user.save(update_fields=["email"])
        profile, _ = Profile.objects.update_or_create(
            user=user, defaults={"role": role, "firm": firm_name}
        )
        profile.properties.set(found)
        return user

    return _audited(actor=actor, verb="user.change", via=via, ip=ip, detail=detail, do=change)


def _email_checked(email: str) -> str:
    """An email address as stored: trimmed, or "" for none; ValidationError if it is not one."""
    email = email.strip()
    if not email:
        return ""
    try:
        validate_email(email)
    except DjangoValidationError:
        raise ValidationError(
            _("{value!r} is not an email address"), code="email_invalid", value=email, field="email"
        ) from None
    return email


def _keep_an_admin(user: Any) -> None:
    """Refuse a change that would leave no active admin (no one could manage users again)."""
    others = Profile.objects.filter(role=permissions.ADMIN, user__is_active=True).exclude(user=user)
    if (
        user.is_active
        and Profile.objects.filter(user=user, role=permissions.ADMIN).exists()
        and not others.exists()
    ):
        raise ValidationError(
            _("{username} is the last active admin"),
            code="last_admin",
            username=user.username,
            field="role",
        )


def user_active_set(*, username: str, active: bool, actor: Any, via: str, ip: str = "") -> Any:
    """Deactivate a user (signed out at their next request, tokens refused) or reactivate one.

    Users are never deleted: the audit trail and the timeline name them. Raises NotFoundError,
    or ValidationError for an actor deactivating themselves or the last active admin.
    """
    verb = "user.reactivate" if active else "user.deactivate"

    def apply() -> Any:
        user = _user(username)
        if not active:
            if getattr(actor, "pk", None) == user.pk:
                raise ValidationError(
                    _("you cannot deactivate yourself"), code="deactivate_self", field="active"
                )
            _keep_an_admin(user)
        if user.is_active != active:
            user.is_active = active
            user.save(update_fields=["is_active"])
        return user

    return _audited(actor=actor, verb=verb, via=via, ip=ip, detail={"username": username}, do=apply)


def user_password_set(*, username: str, password: str, actor: Any, via: str, ip: str = "") -> Any:
    """Give a user a new password, checked by Django's validators: their other sessions end at
    their next request (Django's session hash follows the password); API tokens are untouched.
    Raises NotFoundError, or ValidationError (field "password") for a weak one."""

    def apply() -> Any:
        user = _user(username)
        _password_checked(user, password)
        user.save(update_fields=["password"])
        return user

    return _audited(
        actor=actor, verb="user.password", via=via, ip=ip, detail={"username": username}, do=apply
    )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_issue(*, username: str, actor: Any, via: str, ip: str = "") -> str:
    """A new API token for the user; only its SHA-256 is stored. Raises NotFoundError."""

    def issue() -> str:
        user = _user(username)
        token = "arr_" + secrets.token_urlsafe(32)
        ApiToken.objects.create(user=user, digest=_digest(token), hint=token[:8])
        return token

    return _audited(
        actor=actor, verb="token.issue", via=via, ip=ip, detail={"username": username}, do=issue
    )


def tokens_of(*, username: str) -> list[ApiToken]:
    """The user's API tokens, newest first, revoked ones too. Raises NotFoundError."""
    return list(ApiToken.objects.filter(user=_user(username)).order_by("-created_at", "-id"))


def token_revoke(
    *, username: str, token_id: int | None = None, actor: Any, via: str, ip: str = ""
) -> int:
    """Revoke one of the user's API tokens (`token_id`), or all of them: each is refused from
    then on; its row stays, with when it was revoked. Returns how many were revoked; a token
    of another user, or one revoked already, is refused (NotFoundError, ValidationError)."""

    def revoke() -> int:
        live = ApiToken.objects.select_for_update().filter(user=_user(username))
        if token_id is not None:
            found = live.filter(pk=token_id).first()
            if found is None:
                raise NotFoundError(
                    _("{username} has no API token {token_id}"),
                    code="token_not_found",
                    username=username,
                    token_id=token_id,
                )
            if found.revoked_at is not None:
                raise ValidationError(
                    _("API token {token_id} was revoked already"),
                    code="token_revoked",
                    token_id=token_id,
                    field="token",
                )
            live = live.filter(pk=token_id)
        return live.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())

    return _audited(
        actor=actor,
        verb="token.revoke",
        via=via,
        ip=ip,
        detail={"username": username, "token": token_id or "all"},
        do=revoke,
    )


def property_change(
    *,
    property_id: str,
    name: str,
    address: str,
    timezone: str,
    owner_name: str | None = None,
    actor: Any,
    via: str,
    ip: str = "",
) -> Property:
    """`ledger.properties.property_change`, audited as `property.change` with each changed field
    before and after. Raises what it raises."""
    detail: dict[str, Any] = {"property_id": property_id}

    def change() -> Property:
        changed = properties.property_change(
            property_id=property_id,
            name=name,
            address=address,
            timezone=timezone,
            owner_name=owner_name,
        )
        detail["before"], detail["after"] = changed.before, changed.after
        return changed.property

    return _audited(actor=actor, verb="property.change", via=via, ip=ip, detail=detail, do=change)


def token_user(token: str, *, ip: str = "") -> Any | None:
    """The active user a token belongs to, or None.

    A token that was issued but is revoked, or whose user is deactivated, is refused with an
    audit row (`signin.failed`, via "api", naming the token's user and its first characters):
    someone holds a token that once opened the API. A token never issued is refused without
    one: it cannot be guessed (256 random bits), and anyone could fill the audit with them.
    """
    if not token or len(token) > 200:
        return None
    row = ApiToken.objects.select_related("user").filter(digest=_digest(token)).first()
    if row is None:
        return None
    if row.revoked_at is not None or not row.user.is_active:
        reason = "token revoked" if row.revoked_at is not None else "user inactive"
        audit_write(
            user=row.user,
            verb="signin.failed",
            via="api",
            ip=ip,
            detail={"reason": reason, "token": row.hint},
        )
        return None
    now = timezone.now()
    # Record use at most hourly: a write on every request would cost more than the request.
    if row.last_used_at is None or now - row.last_used_at > timedelta(hours=1):
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row.user


def period_close(*, month: date, on: date, actor: Any, via: str, ip: str = "") -> PeriodEvent:
    """Close `month` as of `on` (`ledger.periods.period_close`), audited as `period.close`: the
    actor (signed in, or named on the command line) must be a controller or an admin."""
    return _audited(
        actor=actor,
        verb="period.close",
        via=via,
        ip=ip,
        detail={"month": periods.label(month)},
        do=lambda: periods.period_close(month=month, actor=str(actor.get_username()), on=on),
    )


def period_reopen(*, month: date, reason: str, actor: Any, via: str, ip: str = "") -> PeriodEvent:
    """Reopen `month`, the latest closed (`ledger.periods.period_reopen`), for `reason`, audited
    as `period.reopen` with the reason."""
    detail = {"month": periods.label(month), "reason": reason[: periods.REASON_LIMIT]}
    return _audited(
        actor=actor,
        verb="period.reopen",
        via=via,
        ip=ip,
        detail=detail,
        do=lambda: periods.period_reopen(
            month=month, actor=str(actor.get_username()), reason=reason
        ),
    )


def _window() -> timedelta:
    return timedelta(minutes=settings.ARREARS_LOGIN_LOCK_MINUTES)


USER_AGENT_LIMIT = 200  # what the audit keeps of a browser's User-Agent


def login_check(*, username: str, ip: str) -> None:
    """Raise LockedOutError when this name, from this address, failed too often lately
    (ARREARS_LOGIN_MAX_FAILURES), or when this address failed too often lately whatever the
    names it tried (ARREARS_LOGIN_MAX_FAILURES_PER_ADDRESS: password spraying, one password
    tried against many names). `extra["lock"]` says which: "name" or "address"."""
    since = timezone.now() - _window()
    recent = LoginFailure.objects.filter(ip=ip[:45], at__gte=since)
    minutes = settings.ARREARS_LOGIN_LOCK_MINUTES
    said = _("too many failed sign-ins: try again in {minutes} minutes")
    if recent.filter(username=username[:150]).count() >= settings.ARREARS_LOGIN_MAX_FAILURES:
        raise LockedOutError(said, code="locked", minutes=minutes, lock="name")
    if recent.count() >= settings.ARREARS_LOGIN_MAX_FAILURES_PER_ADDRESS:
        raise LockedOutError(said, code="locked", minutes=minutes, lock="address")


def _signin_write(*, user: Any, verb: str, ip: str, user_agent: str, **detail: str) -> None:
    detail["user_agent"] = user_agent[:USER_AGENT_LIMIT]
    audit_write(user=user, verb=verb, via="web", ip=ip, detail=detail)


def login_failed(*, username: str, ip: str, user_agent: str, locked: str = "") -> None:
    """A sign-in refused: its audit row (`signin.failed`, the name as typed, the address, the
    browser), kept; and, unless it was refused by a lock (`locked`: "name" or "address") before
    the password was tried, a failure counted for the locks."""
    reason = f"locked ({locked})" if locked else "wrong name or password"
    with transaction.atomic():
        if not locked:
            LoginFailure.objects.create(username=username[:150], ip=ip[:45], at=timezone.now())
        _signin_write(
            user=username[:150], verb="signin.failed", ip=ip, user_agent=user_agent, reason=reason
        )


def login_succeeded(*, user: Any, username: str, ip: str, user_agent: str) -> None:
    """A sign-in accepted: its audit row (`signin.ok`), and the name's failures from that
    address forgotten (the audit rows of those failures stay)."""
    with transaction.atomic():
        LoginFailure.objects.filter(username=username[:150], ip=ip[:45]).delete()
        _signin_write(user=user, verb="signin.ok", ip=ip, user_agent=user_agent)


def logout_record(*, user: Any, ip: str, user_agent: str) -> None:
    """A sign-out: its audit row (`signout`)."""
    _signin_write(user=user, verb="signout", ip=ip, user_agent=user_agent)
