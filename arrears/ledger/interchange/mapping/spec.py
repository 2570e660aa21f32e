"""A mapping file (TOML): which source columns fill which interchange columns, and how
(docs/ledger-interchange.md, "Property-management exports"). Read and checked whole: each problem
names the mapping file, the line and the key."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arrears.ledger.interchange.errors import BookImportError, Problem
from arrears.ledger.interchange.formats import ACCOUNTS, PARTIES

BUILTIN_DIR = Path(__file__).with_name("builtin")
TYPES = ("charge", "payment", "credit", "reversal", "refund")
FILTERS = ("id", "upper", "lower", "code", "date", "strip")
SECTIONS = {
    "source": {"title", "layout", "cites", "kind", "date_formats", "header_line", "skip"},
    "account": set(ACCOUNTS.columns) | {"x_"},
    "party": set(PARTIES.columns) | {"role", "x_"},
    "transaction": {"txn_id", "posted", "due", "reference", "memo", "x_"},
    "amount": {"debit", "credit", "column", "balance"},
    "type": {"column", "map"},
    "code": {"column", "map", "default", "optional"},
    "aging": {"as_of", "buckets", "credit", "total", "code", "credit_code"},
}


@dataclass
class Mapping:
    """A mapping file, checked: `label` is the name its problems use."""

    label: str
    name: str
    kind: str  # "ledger" or "aging"
    title: str
    layout: str
    date_formats: list[str]
    header_line: int
    skip: dict[str, list[str]]
    account: dict[str, str]
    party: dict[str, str]
    transaction: dict[str, str]
    amount: dict[str, str]
    type_column: str
    type_map: dict[str, str]
    code_column: str
    code_map: dict[str, str]
    code_default: str
    code_optional: bool
    aging: dict[str, Any]
    lines: dict[str, int] = field(default_factory=dict)  # "section.key" -> its line in the file

    def where(self, key: str) -> int:
        return self.lines.get(key, 0)


def builtin_names() -> list[str]:
    """The names of the mappings Arrears ships (`--mapping yardi-ledger`)."""
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.toml"))


def load_mapping(name_or_path: str) -> Mapping:
    """The mapping a builtin name or a TOML file's path names.

    Raises BookImportError naming the mapping file, the line and the key of each problem.
    """
    path = BUILTIN_DIR / f"{name_or_path}.toml"
    if "/" in name_or_path or "\\" in name_or_path or not path.is_file():
        path = Path(name_or_path)
    label = path.name
    if not path.is_file():
        known = ", ".join(builtin_names())
        reason = f"no such mapping file, nor a builtin mapping (the builtins: {known})"
        raise BookImportError([Problem(name_or_path, 0, "", reason)])
    text = path.read_text(encoding="utf-8")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", 0) or _line_in_message(str(exc))
        raise BookImportError([Problem(label, line, "", f"not TOML: {exc}")]) from None
    return _checked(doc, label, path.stem, _key_lines(text))


def _line_in_message(message: str) -> int:
    found = re.search(r"line (\d+)", message)
    return int(found.group(1)) if found else 0


def _key_lines(text: str) -> dict[str, int]:
    """Where each `section.key` (and each `[section]`) is written, for the problems' lines."""
    lines: dict[str, int] = {}
    section = ""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("["):
            section = line.strip("[] ")
            lines.setdefault(section, number)
            continue
        key = re.match(r'("[^"]*"|[A-Za-z0-9_.-]+)\s*=', line)
        if key:
            lines.setdefault(f"{section}.{key.group(1).strip(chr(34))}", number)
    return lines


def _checked(doc: dict[str, Any], label: str, name: str, lines: dict[str, int]) -> Mapping:
    problems: list[Problem] = []

    def bad(key: str, reason: str) -> None:
        problems.append(
            Problem(label, lines.get(key, lines.get(key.split(".")[0], 0)), key, reason)
        )

    for section, value in doc.items():
        if section not in SECTIONS:
            bad(section, f"unknown section (a mapping has {', '.join(SECTIONS)})")
            continue
        if not isinstance(value, dict):
            bad(section, "is a section ([name]), not a value")
            continue
        for key in value:
            allowed = SECTIONS[section]
            if key not in allowed and not ("x_" in allowed and key.startswith("x_")):
                bad(f"{section}.{key}", f"unknown key of [{section}]")
    source = doc.get("source", {}) if isinstance(doc.get("source"), dict) else {}
    kind = source.get("kind", "")
    if kind not in ("ledger", "aging"):
        bad("source.kind", f"is 'ledger' or 'aging', not {kind!r}")
    formats = source.get("date_formats", ["%Y-%m-%d"])
    if not isinstance(formats, list) or not all(isinstance(f, str) for f in formats):
        bad("source.date_formats", 'is a list of strptime formats, such as ["%m/%d/%Y"]')
        formats = []
    header_line = source.get("header_line", 1)
    if not isinstance(header_line, int) or isinstance(header_line, bool) or header_line < 1:
        bad("source.header_line", "is the line number of the header row (1 or more)")
        header_line = 1
    skip = source.get("skip", {})
    if not isinstance(skip, dict) or not all(
        isinstance(v, list) and all(isinstance(s, str) for s in v) for v in skip.values()
    ):
        bad("source.skip", 'is a table of column = ["value", ...]: rows to leave out')
        skip = {}
    sections = {s: _strings(doc, s, bad) for s in ("account", "party", "transaction", "amount")}
    type_doc = _table(doc, "type")
    code_doc = _table(doc, "code")
    aging = _table(doc, "aging")
    for section, values in sections.items():
        for key, template in values.items():
            _check_template(f"{section}.{key}", template, bad)
    if not sections["account"].get("account_id"):
        bad("account.account_id", "is required: the template of the account's id")
    if sections["party"] and not (
        sections["party"].get("party_id") and sections["party"].get("name")
    ):
        bad("party", "needs party_id and name (or no [party] at all)")
    role = sections["party"].pop("role", "primary")
    sections["party"]["role"] = role
    if role not in ("primary", "co_obligor", "guarantor"):
        bad("party.role", f"is primary, co_obligor or guarantor, not {role!r}")
    if kind == "ledger":
        if not sections["transaction"].get("posted"):
            bad("transaction.posted", "is required: the template of the row's date")
        if not sections["transaction"].get("txn_id"):
            bad("transaction.txn_id", "is required: the template of the row's id")
        amount = sections["amount"]
        if not (amount.get("column") or amount.get("debit") or amount.get("credit")):
            bad("amount", "names `column` (a signed amount) or `debit` and `credit` columns")
        if amount.get("column") and (amount.get("debit") or amount.get("credit")):
            bad("amount.column", "either one signed `column` or `debit` and `credit`, not both")
    if kind == "aging":
        buckets = aging.get("buckets")
        if not isinstance(buckets, list) or not buckets:
            bad("aging.buckets", 'is a list of {column = "31-60", days = 31}')
        else:
            for n, bucket in enumerate(buckets, start=1):
                if (
                    not isinstance(bucket, dict)
                    or not isinstance(bucket.get("column"), str)
                    or not isinstance(bucket.get("days"), int)
                    or isinstance(bucket.get("days"), bool)
                    or bucket["days"] < 0
                ):
                    bad("aging.buckets", f"bucket {n} is not {{column = NAME, days = N >= 0}}")
    type_map = type_doc.get("map", {})
    for key, value in type_map.items() if isinstance(type_map, dict) else []:
        if value not in (*TYPES, "skip"):
            reason = f"{value!r} is not an interchange type ({', '.join(TYPES)}) or skip"
            problems.append(Problem(label, lines.get(f"type.map.{key}", 0), "type.map", reason))
    code_map = code_doc.get("map", {})
    for key, value in code_map.items() if isinstance(code_map, dict) else []:
        if not isinstance(value, str) or not re.fullmatch(r"[A-Z0-9][A-Z0-9_\-]{0,19}", value):
            reason = f"{value!r} is not a code (upper case letters and digits)"
            problems.append(Problem(label, lines.get(f"code.map.{key}", 0), "code.map", reason))
    if problems:
        raise BookImportError(problems)
    return Mapping(
        label=label,
        name=name,
        kind=kind,
        title=str(source.get("title", name)),
        layout=str(source.get("layout", "")),
        date_formats=formats,
        header_line=header_line,
        skip=skip,
        account=sections["account"],
        party=sections["party"] if sections["party"].get("party_id") else {},
        transaction=sections["transaction"],
        amount=sections["amount"],
        type_column=str(type_doc.get("column", "")),
        type_map={k.casefold(): v for k, v in (type_map or {}).items()},
        code_column=str(code_doc.get("column", "")),
        code_map={k.casefold(): v for k, v in (code_map or {}).items()},
        code_default=str(code_doc.get("default", "")),
        code_optional=bool(code_doc.get("optional", False)),
        aging=aging,
        lines=lines,
    )


def _table(doc: dict[str, Any], section: str) -> dict[str, Any]:
    value = doc.get(section, {})
    return value if isinstance(value, dict) else {}


def _strings(doc: dict[str, Any], section: str, bad: Callable[[str, str], None]) -> dict[str, str]:
    out = {}
    for key, value in _table(doc, section).items():
        if isinstance(value, str):
            out[key] = value
        else:
            bad(f"{section}.{key}", 'is a text: a template such as "{Property}-{Unit}|id"')
    return out


def _check_template(key: str, template: str, bad: Callable[[str, str], None]) -> None:
    _body, *filters = template.split("|")
    for name in filters:
        if name.strip() not in FILTERS:
            bad(key, f"unknown filter {name.strip()!r} (filters: {', '.join(FILTERS)})")
