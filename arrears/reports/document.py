"""A report as a document: its JSON form (the contract scripts read) and what a person reads of
it, tables and charts, which every format draws (the command's table and CSV, the page, XLSX,
PDF, the email of a subscription). Pure data: no Django, no database, no clock.

Invariants:
- `data` is the report's JSON exactly (`--format json`, the API); tables and charts are drawn
  from the same numbers, never computed again, so the formats cannot disagree.
- Values in `Table.rows` are JSON values: amounts and rates as decimal strings (None when not
  defined), days as ISO strings; `Column.kind` says how a format shows them (an XLSX cell is a
  number for "money", "rate", "days", "int").
- A chart's values are `Decimal` (or None for a gap); its `unit` says what an axis marks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

Kind = Literal["text", "money", "rate", "percent", "days", "int", "date"]
Unit = Literal["money", "percent", "share", "days", "count"]


@dataclass(frozen=True)
class Column:
    key: str  # the row's key
    label: Any  # the heading a person reads (text, or lazy text drawn in the reader's language)
    kind: Kind = "text"


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[Column, ...]
    rows: list[dict[str, Any]]
    total: dict[str, Any] | None = None  # a last row, set apart ("Total")
    note: str = ""  # what a reader needs to read it (a definition, a source)


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[Decimal | None, ...]  # one per label of the chart


@dataclass(frozen=True)
class Chart:
    kind: Literal["line", "bars", "stacked"]
    title: str
    labels: tuple[str, ...]  # the x axis: months, weeks, days, groups
    series: tuple[Series, ...]
    unit: Unit = "money"
    currency: str | None = None  # for unit "money"
    description: str = ""  # what it shows, in words (the SVG's <desc>, for a screen reader)


@dataclass(frozen=True)
class Document:
    name: str  # the report's name in the registry ("metrics", "over-60" …)
    title: str
    subtitle: str  # its day or period, and its scope
    data: Any  # the JSON form
    tables: tuple[Table, ...] = ()
    charts: tuple[Chart, ...] = ()
    notes: tuple[str, ...] = field(default=())  # lines under the title (what was left out)
