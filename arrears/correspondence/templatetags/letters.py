"""Filters of the letter templates: `money` ($1,234.56) and `longdate` (March 6, 2026 / 6 de
marzo de 2026, by the letter's language)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import template

from arrears.core.money import quantize
from arrears.correspondence.catalog import MONTHS

register = template.Library()


@register.filter
def money(value: Any) -> str:
    if value is None or value == "":
        return ""
    amount = quantize(Decimal(value))
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


@register.filter
def longdate(value: date | None, language: str = "en") -> str:
    if value is None:
        return ""
    if language == "es":
        return f"{value.day} de {MONTHS['es'][value.month - 1]} de {value.year}"
    return f"{MONTHS['en'][value.month - 1]} {value.day}, {value.year}"
