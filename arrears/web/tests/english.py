"""Which words on a Spanish page are English: the interface's own English, not the book's data.

The list of English words is built from the Spanish catalogue itself (the compiled .mo beside the
.po): every word of an English msgid that no Spanish msgstr uses. "Balance", "Today", "Hold",
"Promise" and "the" are there; "total", "email", "plan" or "PDF", which the Spanish interface uses
too, are not, so a Spanish page may show them. A new English string added to the catalogue adds
its words to the list; a string never put through gettext is caught when its words are ones the
catalogue already holds in English (most of the interface's vocabulary).

What a page shows that is data is allowed, by two rules:
- an identifier is not a word: a token with a digit or inner punctuation (`A-TINA`, `P-TINA`,
  `note.added`, `ny-late-rent-notice`, `tina@example.org`, `2026-03-26`);
- the book's own words are data: `data_words()` reads the text columns of the rows a page may
  show (names, addresses, cities, notes, subjects, usernames, firms, the timeline's record as it
  was written), and a word found there is not counted.
"""

from __future__ import annotations

import gettext
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import django

CATALOGUE = Path(__file__).resolve().parents[1] / "locale" / "es" / "LC_MESSAGES" / "django.mo"
PLACEHOLDER = re.compile(r"\{[^}]*\}|%\([^)]*\)[sdf]|%[sd]|<[^>]*>")
# Django's own Spanish (the months and days of dates: "may" is May in Spanish).
DJANGO_CATALOGUE = (
    Path(django.__file__).parent / "conf" / "locale" / "es" / "LC_MESSAGES" / "django.mo"
)
WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
# A token with a digit or inner punctuation is an identifier (an account, a party, an event's
# kind, a template's key, an address, a date), never a word of the interface.
IDENTIFIER = re.compile(r"\S*(?:\d|[^\W\d_][._/@:+-][^\W\d_])\S*")


def _fold(word: str) -> str:
    """Lower case without accents: `García` and `garcia` are one word."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """The words of `text`, folded, identifiers and placeholders left out."""
    text = IDENTIFIER.sub(" ", PLACEHOLDER.sub(" ", text))
    return [_fold(w) for w in WORD.findall(text) if len(w) >= 3]


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Every word of the catalogue's English msgids that none of its Spanish msgstrs uses (nor
    Django's own Spanish)."""
    english: set[str] = set()
    spanish: set[str] = set()
    for path in (CATALOGUE, DJANGO_CATALOGUE):
        with path.open("rb") as handle:
            catalogue = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
        for key, translation in catalogue.items():
            msgid = key[0] if isinstance(key, tuple) else key
            if msgid and path == CATALOGUE:  # not the header
                english.update(words(msgid))
            spanish.update(words(translation))
    return frozenset(english - spanish)


def data_words() -> frozenset[str]:
    """The words of the book's own text: what people and parties wrote or are called."""
    from django.contrib.auth import get_user_model

    from arrears.correspondence.catalog import CATALOG
    from arrears.correspondence.mail_models import InboundEmail
    from arrears.correspondence.models import Template
    from arrears.disputes.models import Dispute
    from arrears.dunning.models import Hold
    from arrears.dunning.policy import built_in_policies
    from arrears.dunning.services import company_policies
    from arrears.ledger.models import Party, Property, TimelineEvent, Transaction

    texts: list[str] = []
    for row in Party.objects.values_list("party_id", "name", "address", "city", "email"):
        texts.extend(row)
    texts.extend(
        t for row in Property.objects.values_list("property_id", "name", "city") for t in row
    )
    texts.extend(get_user_model().objects.values_list("username", flat=True))
    texts.extend(TimelineEvent.objects.values_list("actor", flat=True).distinct())  # `cycle`
    texts.extend(TimelineEvent.objects.filter(kind="note.added").values_list("summary", flat=True))
    texts.extend(Hold.objects.values_list("note", flat=True))
    for row in InboundEmail.objects.values_list("from_name", "subject", "excerpt"):
        texts.extend(row)
    texts.extend(Template.objects.values_list("subject", flat=True))
    texts.extend(Dispute.objects.values_list("reason", flat=True))
    policies = {**built_in_policies(), **company_policies()}
    texts.extend(policies)  # a policy is called `student`
    texts.extend(p.description for p in policies.values())  # in its author's words
    texts.extend(Transaction.objects.values_list("code", flat=True).distinct())  # RENT, LATE
    texts.extend(getattr(t, "law", "") for t in CATALOG.values())  # a statute's own name
    found: set[str] = set()
    for text in texts:
        found.update(words(text or ""))
    return frozenset(found)


def english_on(text: str, allowed: frozenset[str] = frozenset()) -> list[str]:
    """The English words of the interface in `text`, in order, less the `allowed` (data)."""
    english = english_words()
    return [w for w in words(text) if w in english and w not in allowed]
