"""A party's contact points changed from the desk: mailing address, email, phone, language,
time zone.

Invariants:
- parties may change, their history may not: each change writes, in the same transaction, a
  `party.updated` timeline row on every account of the party with the old and the new values
  of what changed (the timeline is insert-only);
- nothing is written for a change that changes nothing;
- a new mailing address is tried again: returned mail marks an address (by its key), not the
  party, so the guard refuses letters to the old address only; the row says the mark no longer
  applies (`returned_mail_cleared`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from arrears.core.errors import NotFoundError, ValidationError
from arrears.core.phones import phone_e164
from arrears.correspondence.addresses import PostalAddress, address_key
from arrears.correspondence.models import ReturnedMail
from arrears.ledger.interchange.fields import EMAIL_RE, LANGUAGE_RE, PHONE_RE
from arrears.ledger.interchange.places import COUNTRIES, zones
from arrears.ledger.models import Party, TimelineEvent

CONTACT_FIELDS = (
    "email",
    "phone",
    "address",
    "city",
    "state",
    "postal_code",
    "country",
    "language",
    "timezone",
)
ADDRESS_FIELDS = ("address", "city", "state", "postal_code", "country")
# The columns' lengths (models.Party): a value longer than its column is refused, not cut.
LIMITS = {
    "email": 254,
    "phone": 20,
    "address": 300,
    "city": 100,
    "state": 50,
    "postal_code": 20,
    "country": 2,
    "language": 35,
    "timezone": 64,
}


@dataclass(frozen=True)
class ContactChanged:
    """What changed ({field: (old, new)}), the timeline rows written, and whether returned mail
    to the old address stops mattering."""

    party: Party
    changed: dict[str, tuple[str, str]]
    events: list[TimelineEvent]
    returned_mail_cleared: bool


def contact_clean(changes: Mapping[str, str | None]) -> dict[str, str]:
    """The changes asked (None: unchanged), checked and normalized: a phone as typed becomes
    E.164, an email is trimmed, a language tag and a time zone must be known. Raises
    ValidationError naming the field."""
    out = {}
    for name, value in changes.items():
        if value is None:
            continue
        if name not in CONTACT_FIELDS:
            raise ValidationError(
                _("{field} is not a contact point"), code="party_field_unknown", field=name
            )
        value = value.strip()
        if name == "phone" and value:
            value = phone_e164(value)
        if name == "country":
            value = value.upper()
        _check(name, value)
        out[name] = value
    return out


def _check(name: str, value: str) -> None:
    limit = LIMITS.get(name) or 300
    if len(value) > limit:
        raise ValidationError(
            _("{field} is longer than {limit} characters"),
            code="party_field_too_long",
            field=name,
            limit=limit,
        )
    bad = {
        "email": (EMAIL_RE, _("{value!r} is not an email address"), "party_email_invalid"),
        "phone": (
            PHONE_RE,
            _("{value!r} is not a phone number in E.164 form (+13475550113)"),
            "party_phone_invalid",
        ),
        "language": (
            LANGUAGE_RE,
            _("{value!r} is not a language code (en, es, zh-Hant)"),
            "party_language_invalid",
        ),
    }
    if value and name in bad:
        pattern, message, code = bad[name]
        if not pattern.fullmatch(value):
            raise ValidationError(message, code=code, field=name, value=value)
    if name == "language" and not value:
        raise ValidationError(
            _("a party needs a language"), code="party_language_invalid", field=name, value=value
        )
    if name == "timezone" and value and value not in zones():
        raise ValidationError(
            _("{value!r} is not a known time zone (America/New_York)"),
            code="party_timezone_unknown",
            field=name,
            value=value,
        )
    if name == "country" and value and value not in COUNTRIES:
        raise ValidationError(
            _("{value!r} is not a country code (US)"),
            code="party_country_invalid",
            field=name,
            value=value,
        )


def _postal(party: Party) -> PostalAddress:
    return PostalAddress(
        party.address, party.city, party.state, party.postal_code, party.country or "US"
    )


@transaction.atomic
def party_update(
    *, party_id: str, changes: Mapping[str, str | None], actor: str, on: date
) -> ContactChanged:
    """Change a party's contact points (`changes`: field → new value, None unchanged), keeping
    the old values on the timeline of each of its accounts. Raises NotFoundError (no such
    party) or ValidationError (a value that is not one: the field is named)."""
    clean = contact_clean(changes)
    party = Party.objects.select_for_update().filter(party_id=party_id).first()
    if party is None:
        raise NotFoundError(_("no party {party_id!r}"), code="party_not_found", party_id=party_id)
    changed = {
        name: (getattr(party, name), value)
        for name, value in clean.items()
        if getattr(party, name) != value
    }
    if not changed:
        return ContactChanged(party, {}, [], False)
    old_key = address_key(_postal(party)) if party.address.strip() else ""
    for name, (_old, new) in changed.items():
        setattr(party, name, new)
    party.save(update_fields=list(changed))
    new_key = address_key(_postal(party)) if party.address.strip() else ""
    # Mail came back from an address that is no longer the party's: the new one is tried.
    cleared = (
        old_key != new_key
        and bool(new_key)
        and ReturnedMail.objects.filter(party=party).exclude(address_key=new_key).exists()
    )
    return ContactChanged(party, changed, _events(party, changed, cleared, actor, on), cleared)


def _events(
    party: Party, changed: dict[str, tuple[str, str]], cleared: bool, actor: str, on: date
) -> list[TimelineEvent]:
    at = dj_timezone.now()
    names = ", ".join(changed)
    summary = f"contact points of {party.party_id} changed: {names}"
    if cleared:
        summary += "; the new address clears the returned-mail mark"
    detail: dict[str, Any] = {
        "party_id": party.party_id,
        "old": {k: old for k, (old, _new) in changed.items()},
        "new": {k: new for k, (_old, new) in changed.items()},
        "returned_mail_cleared": cleared,
    }
    return [
        TimelineEvent.objects.create(
            account_id=account_pk,
            at=at,
            on=on,
            kind="party.updated",
            actor=actor,
            summary=summary[:500],
            detail=detail,
        )
        for account_pk in party.account_parties.values_list("account_id", flat=True)
        .distinct()
        .order_by("account_id")
    ]
