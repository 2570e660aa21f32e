"""Writes to a property's own details: its name, street address, time zone and owner of record
(the rest of a property comes from the book's import).

A change is checked whole before anything is saved, and only the fields that differ are saved.
The interfaces reach it through `access.services.property_change`, which authorizes the actor and
writes the audit row with what changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import available_timezones

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from arrears.core.errors import NotFoundError, ValidationError
from arrears.ledger.models import Property


@dataclass(frozen=True)
class PropertyChanged:
    """A property after a change, with each changed field's value before and after."""

    property: Property
    before: dict[str, str]
    after: dict[str, str]


@transaction.atomic
def property_change(
    *, property_id: str, name: str, address: str, timezone: str, owner_name: str | None = None
) -> PropertyChanged:
    """Change a property's name, street address, time zone (empty: derived from its state) and
    owner of record (named on its letters beside the managing agent; None leaves it as it is).

    Returns the property with what changed. Raises NotFoundError (no such property) or
    ValidationError (no name, too long, an unknown zone) with `extra["field"]`.
    """
    wanted = {"name": name.strip(), "address": address.strip(), "timezone": timezone.strip()}
    if owner_name is not None:
        wanted["owner_name"] = owner_name.strip()
    prop = Property.objects.select_for_update().filter(property_id=property_id).first()
    if prop is None:
        raise NotFoundError(
            _("no property {property_id!r}"), code="property_not_found", property_id=property_id
        )
    if not wanted["name"]:
        raise ValidationError(
            _("a property needs a name"), code="property_name_missing", field="name"
        )
    for field in wanted:
        limit = getattr(Property._meta.get_field(field), "max_length", None)
        if limit is not None and len(wanted[field]) > limit:
            raise ValidationError(
                _("at most {limit} characters"),
                code="property_field_too_long",
                field=field,
                limit=limit,
            )
    if wanted["timezone"] and wanted["timezone"] not in available_timezones():
        raise ValidationError(
            _("no time zone {timezone!r}"),
            code="property_timezone_unknown",
            field="timezone",
            timezone=wanted["timezone"],
        )
    changed = {f: v for f, v in wanted.items() if getattr(prop, f) != v}
    before = {f: getattr(prop, f) for f in changed}
    for field, value in changed.items():
        setattr(prop, field, value)
    if changed:
        prop.save(update_fields=list(changed))
    return PropertyChanged(prop, before, changed)
