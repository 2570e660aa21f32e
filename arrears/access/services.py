"""Writes of the access part: users, tokens, sign-in throttling, referrals, and `act`, the
audited gateway through which the web pages and the API make every change.

`act(user=…, verb=…, account_id=…, via=…, do=…)` authorizes (role and scope, through
`selectors.authorize`), runs `do(account)` and writes an `AuditEntry`, all in one transaction: a
change without its audit row cannot be committed, and a refused request changes nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone

from arrears.access import permissions
from arrears.access.errors import LockedOutError
from arrears.access.models import ApiToken, AuditEntry, LoginFailure, Profile, Referral
from arrears.access.selectors import authorize
from arrears.core.errors import NotFoundError, ValidationError
from arrears.ledger.models import Account, Property, TimelineEvent

T = TypeVar("T")


# ---- the audited gateway ---------------------------------------------------------------------


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

    Raises what `authorize` raises, or what `do` raises (then nothing is written).
    """
    account = authorize(user, verb, account_id)
    with transaction.atomic():
        result = do(account)
        audit_write(
            user=user, verb=verb, via=via, account_id=account_id or "", ip=ip, detail=detail or {}
        )
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


# ---- users and tokens ------------------------------------------------------------------------


@transaction.atomic
def user_add(
    *,
    username: str,
    password: str,
    role: str,
    properties: Iterable[str] = (),
    firm: str = "",
    actor: str = "cli",
) -> Any:
    """Create a user with a role; a manager's properties and an attorney's firm are required.

    Raises ValidationError (unknown role, weak password, missing scope, user exists) or
    NotFoundError (an unknown property).
    """
    username = username.strip()
    if not username:
        raise ValidationError("a user needs a name")
    if role not in permissions.ROLES:
        raise ValidationError(f"a role is one of {', '.join(permissions.ROLES)}", role=role)
    wanted = [p.strip() for p in properties if p.strip()]
    if role == permissions.MANAGER and not wanted:
        raise ValidationError("a property manager needs --properties P1,P2")
    if role != permissions.MANAGER and wanted:
        raise ValidationError("only a property manager is limited to --properties")
    if role == permissions.ATTORNEY and not firm.strip():
        raise ValidationError("an attorney needs --firm")
    if role != permissions.ATTORNEY and firm.strip():
        raise ValidationError("only an attorney belongs to a --firm")
    found = {p.property_id: p for p in Property.objects.filter(property_id__in=wanted)}
    missing = [p for p in wanted if p not in found]
    if missing:
        raise NotFoundError(f"no property {', '.join(missing)}", properties=missing)
    user_model = get_user_model()
    if user_model.objects.filter(username=username).exists():
        raise ValidationError(f"user {username!r} already exists", username=username)
    user = user_model(username=username)
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationError("; ".join(exc.messages)) from None
    user.set_password(password)
    user.save()
    profile = Profile.objects.create(user=user, role=role, firm=firm.strip())
    profile.properties.set(list(found.values()))
    audit_write(
        user=actor,
        verb="user.add",
        via="cli",
        detail={"username": username, "role": role, "properties": wanted, "firm": firm.strip()},
    )
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def token_issue(*, username: str, actor: str = "cli") -> str:
    """A new API token for the user; only its SHA-256 is stored. Raises NotFoundError."""
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise NotFoundError(f"no user {username!r}", username=username)
    token = "arr_" + secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, digest=_digest(token))
    audit_write(user=actor, verb="token.issue", via="cli", detail={"username": username})
    return token


def token_user(token: str) -> Any | None:
    """The active user a token belongs to, or None."""
    if not token or len(token) > 200:
        return None
    row = ApiToken.objects.select_related("user").filter(digest=_digest(token)).first()
    if row is None or not row.user.is_active:
        return None
    now = timezone.now()
    # Record use at most hourly: a write on every request would cost more than the request.
    if row.last_used_at is None or now - row.last_used_at > timedelta(hours=1):
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row.user


# ---- sign-in throttling ----------------------------------------------------------------------


def _window() -> timedelta:
    return timedelta(minutes=settings.ARREARS_LOGIN_LOCK_MINUTES)


def login_check(*, username: str, ip: str) -> None:
    """Raise LockedOutError when this name, from this address, failed too often lately."""
    since = timezone.now() - _window()
    failures = LoginFailure.objects.filter(username=username[:150], ip=ip[:45], at__gte=since)
    if failures.count() >= settings.ARREARS_LOGIN_MAX_FAILURES:
        raise LockedOutError(
            f"too many failed sign-ins: try again in {settings.ARREARS_LOGIN_LOCK_MINUTES} minutes",
            minutes=settings.ARREARS_LOGIN_LOCK_MINUTES,
        )


def login_failed(*, username: str, ip: str) -> None:
    LoginFailure.objects.create(username=username[:150], ip=ip[:45], at=timezone.now())


def login_succeeded(*, username: str, ip: str) -> None:
    LoginFailure.objects.filter(username=username[:150], ip=ip[:45]).delete()


# ---- referrals -------------------------------------------------------------------------------


def referral_make(*, account: Account, firm: str, on: date, actor: str, note: str = "") -> Referral:
    """Refer an account to a firm (its attorneys then see it); written on the timeline.

    Raises ValidationError without a firm, or when the account is already with that firm.
    """
    firm = firm.strip()
    if not firm:
        raise ValidationError("a referral names a firm")
    with transaction.atomic():
        if Referral.objects.filter(account=account, firm=firm, withdrawn_on__isnull=True).exists():
            raise ValidationError(f"{account.account_id} is already referred to {firm}")
        referral = Referral.objects.create(
            account=account, firm=firm, referred_on=on, referred_by=actor, note=note
        )
        TimelineEvent.objects.create(
            account=account,
            at=timezone.now(),
            on=on,
            kind="referral.made",
            actor=actor,
            summary=f"referred to {firm}",
            detail={"referral": referral.pk, "firm": firm, "note": note},
        )
    return referral
