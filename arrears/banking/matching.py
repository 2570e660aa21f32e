"""Which account a bank line pays: named rules, as data (`rules.toml`), over a snapshot of the
book (`MatchBook`). Pure: no Django, no clock.

Invariants: the rules are tried in their order; the first whose confidence reaches `auto_post`
decides (`Match.auto`); otherwise the best suggestion found (the highest confidence, the
earlier rule on a tie) is returned for the review queue, or None. A rule names one account or
nothing: a name, unit or amount that fits several accounts names none.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process

from arrears.core.fold import fold

RULES_FILE = Path(__file__).with_name("rules.toml")
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-_/.]*[A-Za-z0-9]|[A-Za-z0-9]")
_UNIT = re.compile(
    r"(?:\bunit|\bapt\.?|\bapartment|\bsuite|\bste\.?|#)\s*#?\s*([A-Za-z0-9-]+)", re.I
)


@dataclass(frozen=True)
class Rule:
    name: str
    confidence: Decimal
    threshold: int = 0


@dataclass(frozen=True)
class Rules:
    auto_post: Decimal
    rules: tuple[Rule, ...]


def rules_load(path: Path = RULES_FILE) -> Rules:
    """The rules of `path` (rules.toml); raises ValueError for a rule no code knows."""
    data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    rules = tuple(
        Rule(str(r["name"]), Decimal(str(r["confidence"])), int(r.get("threshold", 0)))
        for r in data["rule"]
    )
    unknown = [r.name for r in rules if r.name not in RULE_FUNCTIONS]
    if unknown:
        raise ValueError(f"{path}: unknown matching rules {unknown}")
    return Rules(Decimal(str(data["auto_post"])), rules)


@dataclass(frozen=True)
class MatchBook:
    """What the rules read of the book: account numbers (upper case) and units (folded) to
    account keys, the parties' folded names to their accounts, each account's open balance in
    cents to the accounts owing it, the payers' bank accounts seen to the account they paid."""

    account_numbers: dict[str, int]
    units: dict[str, list[int]]
    names: dict[str, list[int]]
    open_amounts: dict[int, list[int]]
    payer_accounts: dict[str, int]
    name_choices: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class LineFacts:
    amount: Decimal
    payer_name: str
    payer_account: str
    text: str


@dataclass(frozen=True)
class Match:
    account_pk: int
    rule: str
    confidence: Decimal
    auto: bool


def _one(keys: list[int] | None) -> int | None:
    return keys[0] if keys and len(set(keys)) == 1 else None


def _account_number(book: MatchBook, line: LineFacts, rule: Rule) -> tuple[int, Decimal] | None:
    for token in _TOKEN.findall(line.text):
        found = book.account_numbers.get(token.upper())
        if found is not None:
            return found, rule.confidence
    return None


def _unit_number(book: MatchBook, line: LineFacts, rule: Rule) -> tuple[int, Decimal] | None:
    for unit in _UNIT.findall(line.text):
        found = _one(book.units.get(fold(unit)))
        if found is not None:
            return found, rule.confidence
    return None


def _payer_name(book: MatchBook, line: LineFacts, rule: Rule) -> tuple[int, Decimal] | None:
    name = " ".join(fold(line.payer_name).split())
    if not name:
        return None
    found = _one(book.names.get(name))
    if found is not None:
        return found, rule.confidence
    best = process.extractOne(
        name, book.name_choices, scorer=fuzz.token_sort_ratio, score_cutoff=rule.threshold
    )
    if best is None:
        return None
    found = _one(book.names.get(best[0]))
    if found is None:
        return None
    similarity = (Decimal(str(best[1])) / 100).quantize(Decimal("0.001"))
    return found, (rule.confidence * similarity).quantize(Decimal("0.001"))


NAME_WORDS = range(2, 5)  # a party's name in the text: two to four words, a first and last name


def _name_in_text(book: MatchBook, line: LineFacts, rule: Rule) -> tuple[int, Decimal] | None:
    """A party's whole name (two words or more, folded) among the words of the remittance text,
    as a bank's own statement puts it ("ZELLE FROM JASON ZHANG"): each run of two to four words
    is looked up, so a line costs a few dictionary look-ups whatever the book's size."""
    words = fold(line.text).split()
    for size in sorted(NAME_WORDS, reverse=True):  # the longest name first
        for start in range(len(words) - size + 1):
            found = _one(book.names.get(" ".join(words[start : start + size])))
            if found is not None:
                return found, rule.confidence
    return None


def _open_amount(book: MatchBook, line: LineFacts, rule: Rule) -> tuple[int, Decimal] | None:
    found = _one(book.open_amounts.get(int(line.amount * 100)))
    return (found, rule.confidence) if found is not None else None


def _payer_account(book: MatchBook, line: LineFacts, rule: Rule) -> tuple[int, Decimal] | None:
    found = book.payer_accounts.get(line.payer_account) if line.payer_account else None
    return (found, rule.confidence) if found is not None else None


RULE_FUNCTIONS: dict[str, Callable[[MatchBook, LineFacts, Rule], tuple[int, Decimal] | None]] = {
    "account_number": _account_number,
    "unit_number": _unit_number,
    "payer_name": _payer_name,
    "name_in_text": _name_in_text,
    "open_amount": _open_amount,
    "payer_account": _payer_account,
}


def match_line(book: MatchBook, line: LineFacts, rules: Rules) -> Match | None:
    """The account `line` pays by the first rule sure enough to post, else the best suggestion
    for the review queue, else None (module docstring)."""
    best: Match | None = None
    for rule in rules.rules:
        found = RULE_FUNCTIONS[rule.name](book, line, rule)
        if found is None:
            continue
        account_pk, confidence = found
        if confidence >= rules.auto_post:
            return Match(account_pk, rule.name, confidence, True)
        if best is None or confidence > best.confidence:
            best = Match(account_pk, rule.name, confidence, False)
    return best
