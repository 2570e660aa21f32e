"""The deposit's rules by jurisdiction: the statement's clock, whether missing it forfeits the
deposit, whether late fees may be kept, when receipts must go with the statement, interest, and
the pre-move-out inspection offer (`InspectionRule`: whether it is required, when it goes out at
the latest, the inspection's window). Data
(`deposit_rules.toml`, with the statutes), a company's own rows from ARREARS_DEPOSIT_RULES (a TOML
file of the same shape) over them."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from arrears.core.errors import ValidationError

BUILT_IN = Path(__file__).with_name("deposit_rules.toml")


@dataclass(frozen=True)
class InspectionWindow:
    """An inspection offer's dates for a tenancy ending on `vacate_on`."""

    vacate_on: date
    offer_by: date  # the offer goes out by this day at the latest
    opens: date  # the inspection takes place no earlier than this day
    closes: date  # … and no later than this one
    notice_hours: int  # written notice of the inspection's day and time, this long before it


@dataclass(frozen=True)
class InspectionRule:
    """The pre-move-out inspection offer of a jurisdiction (N.Y. Gen. Oblig. Law §7-108(1-a)(d),
    Cal. Civ. Code §1950.5(f)(1)); `required` false: none is sent."""

    required: bool
    offer_days: int
    from_days: int
    until_days: int
    notice_hours: int
    law: str

    def window(self, vacate_on: date) -> InspectionWindow:
        """The offer's dates for a tenancy ending on `vacate_on`."""
        return InspectionWindow(
            vacate_on=vacate_on,
            offer_by=vacate_on - timedelta(days=self.offer_days),
            opens=vacate_on - timedelta(days=self.from_days),
            closes=vacate_on - timedelta(days=self.until_days),
            notice_hours=self.notice_hours,
        )


@dataclass(frozen=True)
class DepositRule:
    jurisdiction: str  # the row that applies ("default" when none names the property's)
    days: int
    forfeits: bool
    late_fees: bool
    receipts_from: Decimal | None
    interest_percent: Decimal
    law: str
    inspection: InspectionRule


def _rows(path: Path) -> dict[str, dict[str, object]]:
    try:
        with path.open("rb") as stream:
            return tomllib.load(stream)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValidationError(
            "{path}: the deposit rules cannot be read ({reason})",
            code="deposit_rules_unreadable",
            path=str(path),
            reason=str(exc),
        ) from None


@lru_cache(maxsize=4)
def _table(extra: str) -> dict[str, dict[str, object]]:
    table = _rows(BUILT_IN)
    if extra:
        for key, row in _rows(Path(extra)).items():
            table[key] = {**table.get(key, table["default"]), **row}
    return table


def deposit_rule(jurisdiction: str) -> DepositRule:
    """The rule for a property's jurisdiction ("US-NY"), else the country's ("US"), else the
    default."""
    from django.conf import settings

    table = _table(getattr(settings, "ARREARS_DEPOSIT_RULES", ""))
    country = jurisdiction.partition("-")[0]
    key = next((k for k in (jurisdiction, country) if k and k in table), "default")
    row = {**table["default"], **table[key]}
    try:
        receipts = row.get("receipts_from")
        return DepositRule(
            jurisdiction=key,
            days=int(str(row["days"])),
            forfeits=bool(row["forfeits"]),
            late_fees=bool(row["late_fees"]),
            receipts_from=None if receipts is None else Decimal(str(receipts)),
            interest_percent=Decimal(str(row.get("interest_percent", "0"))),
            law=str(row.get("law", "")),
            inspection=_inspection(row),
        )
    except (KeyError, ValueError, ArithmeticError) as exc:
        raise ValidationError(
            "the deposit rules of {key} are not complete ({reason})",
            code="deposit_rules_invalid",
            key=key,
            reason=str(exc),
        ) from None


def _inspection(row: dict[str, object]) -> InspectionRule:
    """The row's inspection offer; KeyError or ValueError for a row that does not say it whole,
    or a window that ends before it opens."""
    rule = InspectionRule(
        required=bool(row["inspection_offer"]),
        offer_days=int(str(row["inspection_offer_days"])),
        from_days=int(str(row["inspection_from_days"])),
        until_days=int(str(row["inspection_until_days"])),
        notice_hours=int(str(row["inspection_notice_hours"])),
        law=str(row.get("inspection_law", "")),
    )
    if not 0 <= rule.until_days <= rule.from_days:
        raise ValueError("the inspection's window ends before it opens")
    return rule
