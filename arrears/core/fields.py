"""MoneyField: an amount kept in the database as whole cents (a 64-bit integer).

Whole cents make every SUM exact on SQLite (whose NUMERIC columns would hold floats) and fast on
PostgreSQL; Python always sees a `Decimal` with two places. A value with a fraction of a cent is
refused, never rounded.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models

from arrears.core.money import HUNDRED, ZERO


def to_cents(amount: Decimal | int) -> int:
    """Whole cents of an amount; ValueError if it has a fraction of a cent."""
    cents = Decimal(amount) * HUNDRED
    if cents != cents.to_integral_value():
        raise ValueError(f"{amount} has a fraction of a cent")
    return int(cents)


def from_cents(cents: int) -> Decimal:
    """Whole cents as a Decimal with two places (scaleb is exact and keeps the exponent)."""
    return Decimal(cents).scaleb(-2) if cents else ZERO


class MoneyField(models.BigIntegerField):
    description = "An amount of money, stored as whole cents"
    # What django-stubs' plugin should take the attribute to be in Python.
    _pyi_private_set_type: Decimal | int | str | None  # type: ignore[assignment]
    _pyi_private_get_type: Decimal  # type: ignore[assignment]

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Decimal | None:
        if value is None:
            return None
        return from_cents(int(value))

    def to_python(self, value: Any) -> Decimal | None:
        if value is None or isinstance(value, Decimal):
            return value
        if isinstance(value, float):
            raise TypeError("money is never a float")
        return Decimal(value)

    def get_prep_value(self, value: Any) -> int | None:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("money is never a float")
        if isinstance(value, int):
            return to_cents(value)
        return to_cents(Decimal(value))

    def formfield(self, **kwargs: Any) -> Any:
        from django import forms

        return forms.DecimalField(decimal_places=2, **kwargs)
