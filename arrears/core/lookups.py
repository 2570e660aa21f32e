"""`field__in=[…]` for lists of any length, as one parameter.

Django writes `x IN (%s, %s, …)`, a parameter per value. PostgreSQL's protocol caps a statement at
65,535 bound parameters (parameters are bound on the server here: config/settings.py), and SQLite
at 32,766 variables, so an import of 70,000 parties, which asks which of them exist, failed
("number of parameters must be between 0 and 65535"). A list longer than `LONG_LIST` is sent as
one array instead: `x IN (SELECT unnest(%s::type[]))` on PostgreSQL, `x IN (SELECT value FROM
json_each(%s))` on SQLite. Shorter lists keep Django's own SQL, so the statements every page asks
(and their prepared plans) are unchanged.

Installed for every field (and every foreign key, whose `in` is Django's RelatedIn) by
`CoreConfig.ready`, so no call site has to remember it.
"""

from __future__ import annotations

import json
from typing import Any

from django.db.models import Field
from django.db.models.fields.related import ForeignObject
from django.db.models.fields.related_lookups import RelatedIn
from django.db.models.lookups import In
from django.utils.datastructures import OrderedSet

# Above this many values a list goes as one parameter: far under both databases' caps, and far
# over what a page or a selector asks for (a chunk of the run is 2,000 accounts).
LONG_LIST = 5000


class _OneParameter:
    """The `process_rhs` of an `in` lookup that sends a long list of values as one array."""

    def process_rhs(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lookup: Any = self
        if lookup.rhs_is_direct_value() and not isinstance(lookup.lhs, tuple):
            try:
                values: Any = OrderedSet(lookup.rhs)
                values.discard(None)
            except TypeError:  # unhashable values
                values = [v for v in lookup.rhs if v is not None]
            if len(values) > LONG_LIST and connection.vendor in ("postgresql", "sqlite"):
                params = _prepared(lookup, compiler, connection, values)
                if connection.vendor == "postgresql":
                    db_type = lookup.lhs.output_field.db_type(connection)
                    return f"(SELECT unnest(%s::{db_type}[]))", [list(params)]
                return "(SELECT value FROM json_each(%s))", [json.dumps(list(params), default=str)]
        return super().process_rhs(compiler, connection)  # type: ignore[misc]


# Fields whose value, of the given type, is sent as it is: the per-value preparation Django does
# (about 2 µs a value through its field methods) would give it back unchanged. An import asks
# which of its 130,000 parties exist, and this was a second of it.
_SENT_AS_IS = {
    "CharField": str,
    "TextField": str,
    "SlugField": str,
    "EmailField": str,
    "IntegerField": int,
    "BigIntegerField": int,
    "AutoField": int,
    "BigAutoField": int,
}


def sent_as_is(field: Any) -> type | None:
    """The type of value that `field` sends to the database as it is, if any (see above)."""
    if field.is_relation:  # a foreign key: its values are those of the key it names
        field = field.target_field
    return _SENT_AS_IS.get(field.get_internal_type())


def _prepared(lookup: Any, compiler: Any, connection: Any, values: Any) -> list[Any]:
    """The values of a long list as the database gets them."""
    plain = sent_as_is(lookup.lhs.output_field)
    if plain is not None and all(type(v) is plain for v in values):
        return list(values)
    _, params = lookup.batch_process_rhs(compiler, connection, values)
    return list(params)


# The stubs name process_rhs's first argument `compiler` in Lookup and `qn` in the iterable mixin,
# so no one signature satisfies both; Django calls it positionally.
class LongIn(_OneParameter, In):  # type: ignore[misc]
    pass


class LongRelatedIn(_OneParameter, RelatedIn):  # type: ignore[misc]
    pass


def install() -> None:
    """Make `in` of every field and foreign key take lists of any length (module docstring)."""
    Field.register_lookup(LongIn)
    ForeignObject.register_lookup(LongRelatedIn)
