"""A property's own details: a change that cannot be kept is refused whole, with a code, the
facts of the refusal, and its wording in the reader's language."""

from __future__ import annotations

import pytest
from django.utils import translation

from arrears.core.errors import NotFoundError, ValidationError
from arrears.ledger.models import Property
from arrears.ledger.properties import property_change

pytestmark = pytest.mark.django_db


@pytest.fixture
def elm_court() -> Property:
    return Property.objects.create(property_id="ELM", name="Elm Court", state="NY", country="US")


def test_a_zone_that_does_not_exist_is_refused_with_its_code_and_the_zone(elm_court):
    # when Elm Court is given the zone of a city that is not on any map
    with pytest.raises(ValidationError) as refused:
        property_change(property_id="ELM", name="Elm", address="", timezone="America/Gotham")
    # then nothing changes, and the refusal names the field and the zone, in either language
    error = refused.value
    assert Property.objects.get(property_id="ELM").name == "Elm Court"
    assert (error.code, error.kind) == ("property_timezone_unknown", "invalid")
    assert error.extra == {"field": "timezone", "timezone": "America/Gotham"}
    with translation.override("en"):
        assert error.message == "no time zone 'America/Gotham'"
    with translation.override("es"):
        assert error.message == "no hay ninguna zona horaria 'America/Gotham'"


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"name": "  "}, "property_name_missing", "name"),
        ({"name": "Elm", "address": "x" * 301}, "property_field_too_long", "address"),
    ],
)
def test_a_change_that_cannot_be_kept_names_its_field(elm_court, change, code, field):
    # when Elm Court is changed with no name, or with an address past its column's length
    wanted = {"name": "", "address": "", "timezone": ""} | change
    with pytest.raises(ValidationError) as refused:
        property_change(property_id="ELM", **wanted)
    # then the refusal says which field and why, and the property is as it was
    assert (refused.value.code, refused.value.extra["field"]) == (code, field)
    assert Property.objects.get(property_id="ELM").address == ""


def test_an_unknown_property_is_not_found_by_its_id():
    # when a property no import brought is changed
    with pytest.raises(NotFoundError) as refused:
        property_change(property_id="NOPE", name="Nope", address="", timezone="")
    # then it is not found, by its id
    assert (refused.value.code, refused.value.kind) == ("property_not_found", "not_found")
    assert refused.value.extra == {"property_id": "NOPE"}
    assert "NOPE" in refused.value.message
