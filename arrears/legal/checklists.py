"""The referral checklists (checklists.toml): what a firm needs to take a case, per jurisdiction
and case type, and which of it an account's book holds.

Pure: no Django, no clock. `checklist_for` picks an account's checklist; `evaluate` says, from the
facts the caller read from the book (`Facts`), which items apply to the account and what holds
each. An item that applies and that nothing holds is missing, and a missing item blocks the
referral unless a person gives a reason (arrears.dunning.casefile).
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

CHECKLISTS_FILE = Path(__file__).with_name("checklists.toml")
GENERATED = ("ledger", "analysis", "plan_history", "invoices", "correspondence_log")
CONDITIONS = ("guarantor", "plan", "plan_broken", "registration")
ANY_TEMPLATE = "*"


@dataclass(frozen=True)
class Item:
    key: str
    title: str
    title_es: str = ""
    law: str = ""
    generated: str = ""
    letters: tuple[str, ...] = ()
    proof: str = ""  # "mailing": a letter counts once its mailing is recorded
    uploads: tuple[str, ...] = ()
    when: str = ""

    def title_in(self, language: str) -> str:
        return self.title_es if language.startswith("es") and self.title_es else self.title


@dataclass(frozen=True)
class Checklist:
    key: str
    title: str
    items: tuple[Item, ...]
    title_es: str = ""
    law: str = ""
    states: tuple[str, ...] = ()
    account_kinds: tuple[str, ...] = ()

    def title_in(self, language: str) -> str:
        return self.title_es if language.startswith("es") and self.title_es else self.title

    def applies(self, state: str, account_kind: str) -> bool:
        return (not self.states or state.upper() in self.states) and (
            not self.account_kinds or account_kind in self.account_kinds
        )


@dataclass(frozen=True)
class Letter:
    """A letter or email that went out to the account's parties."""

    outbound_id: int
    template: str
    channel: str  # letter, certified_letter, email
    status: str  # mailed, returned, sent
    document: str  # its archive name
    sha256: str
    party: str  # the addressee's name
    role: str
    dated_on: date | None = None
    mailed_on: date | None = None
    article_number: str = ""

    @property
    def mailing_recorded(self) -> bool:
        """Its mailing is recorded: the day, and for certified mail the article number."""
        if self.channel == "email":
            return self.status == "sent"
        if self.mailed_on is None:
            return False
        return bool(self.article_number) or self.channel != "certified_letter"


@dataclass(frozen=True)
class Upload:
    """A document added to the account by hand, with the kind it was given."""

    kind: str
    title: str
    document: str
    sha256: str
    content_type: str
    added_on: date


@dataclass(frozen=True)
class Facts:
    """What the book says of one account, as the checklist asks it."""

    letters: Sequence[Letter] = ()
    uploads: Sequence[Upload] = ()
    guarantor: bool = False
    plans: int = 0
    plans_broken: int = 0
    registration: bool = False

    def meets(self, when: str) -> bool:
        return {
            "": True,
            "guarantor": self.guarantor,
            "plan": self.plans > 0,
            "plan_broken": self.plans_broken > 0,
            "registration": self.registration,
        }[when]


@dataclass(frozen=True)
class ItemState:
    """One item for one account: whether it applies and what holds it."""

    item: Item
    applies: bool
    generated: str = ""
    letters: tuple[Letter, ...] = ()
    uploads: tuple[Upload, ...] = ()

    @property
    def held(self) -> bool:
        return bool(self.generated or self.letters or self.uploads)

    @property
    def missing(self) -> bool:
        return self.applies and not self.held


@dataclass(frozen=True)
class Readiness:
    checklist: Checklist
    items: tuple[ItemState, ...] = field(default_factory=tuple)

    @property
    def missing(self) -> list[Item]:
        return [s.item for s in self.items if s.missing]


def _item(raw: dict[str, object]) -> Item:
    item = Item(
        key=str(raw["key"]),
        title=str(raw["title"]),
        title_es=str(raw.get("title_es", "")),
        law=str(raw.get("law", "")),
        generated=str(raw.get("generated", "")),
        letters=tuple(str(t) for t in raw.get("letters", ())),  # type: ignore[attr-defined]
        proof=str(raw.get("proof", "")),
        uploads=tuple(str(k) for k in raw.get("uploads", ())),  # type: ignore[attr-defined]
        when=str(raw.get("when", "")),
    )
    if item.generated and item.generated not in GENERATED:
        raise ValueError(f"checklist item {item.key}: no generated document {item.generated!r}")
    if item.when not in ("", *CONDITIONS):
        raise ValueError(f"checklist item {item.key}: no condition {item.when!r}")
    if item.proof not in ("", "mailing"):
        raise ValueError(f"checklist item {item.key}: no proof {item.proof!r}")
    return item


def checklists_parse(text: str) -> tuple[Checklist, ...]:
    """The checklists of a TOML text; ValueError for an item the engine cannot check."""
    out = []
    for raw in tomllib.loads(text).get("checklist", []):
        out.append(
            Checklist(
                key=raw["key"],
                title=raw["title"],
                title_es=raw.get("title_es", ""),
                law=raw.get("law", ""),
                states=tuple(s.upper() for s in raw.get("states", ())),
                account_kinds=tuple(raw.get("account_kinds", ())),
                items=tuple(_item(i) for i in raw.get("items", ())),
            )
        )
    return tuple(out)


@cache
def checklists() -> tuple[Checklist, ...]:
    """The shipped checklists (checklists.toml), read once."""
    return checklists_parse(CHECKLISTS_FILE.read_text(encoding="utf-8"))


def checklist_for(
    *, state: str, account_kind: str, among: Sequence[Checklist] | None = None
) -> Checklist:
    """The first checklist that applies to an account of `account_kind` in `state`."""
    for checklist in checklists() if among is None else among:
        if checklist.applies(state, account_kind):
            return checklist
    raise LookupError(f"no referral checklist for a {account_kind} in {state or 'no state'}")


def evaluate(checklist: Checklist, facts: Facts) -> Readiness:
    """Each item of `checklist` for the account `facts` describes: whether it applies, and the
    generated document, letters and uploads that hold it."""
    states = []
    for item in checklist.items:
        if not facts.meets(item.when):
            states.append(ItemState(item, applies=False))
            continue
        letters = tuple(
            letter
            for letter in facts.letters
            if (ANY_TEMPLATE in item.letters or letter.template in item.letters)
            and (item.proof != "mailing" or letter.mailing_recorded)
        )
        uploads = tuple(u for u in facts.uploads if u.kind in item.uploads)
        states.append(ItemState(item, True, item.generated, letters, uploads))
    return Readiness(checklist, tuple(states))
