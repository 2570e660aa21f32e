"""How an incoming message is sorted: transparent rules, tried in order, the first match wins. Pure.

Each rule has a name that is recorded with the message, so a coordinator can see why a message
landed where it did (`header:auto-submitted`, `dispute:phrase "do not owe"`, …). The order is the
order of consequence: an automatic reply is never read as a promise; a dispute outranks a payment
claim (a tenant who says "I paid, this is wrong" disputes the debt, 15 USC §1692g(b)); a payment
claim outranks a promise; a question is what is left with a question in it.

Categories: opt_out, out_of_office, dispute, payment_claim, promise, question, other (and bounce,
given by the delivery-report reader, not by these rules).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

NEEDS_ANSWER = frozenset({"dispute", "payment_claim", "promise", "question"})


@dataclass(frozen=True)
class Sorted:
    category: str
    rule: str

    @property
    def needs_answer(self) -> bool:
        return self.category in NEEDS_ANSWER


# Phrases, English and Spanish, matched as whole words in lower case.
PHRASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "dispute",
        (
            "dispute",
            "disputing",
            "do not owe",
            "don't owe",
            "dont owe",
            "not my debt",
            "never received",
            "incorrect",
            "wrong amount",
            "not correct",
            "is wrong",
            "in error",
            "validation",
            "verify this debt",
            "verification of the debt",
            "disputo",
            "no debo",
            "no es correcto",
            "cantidad incorrecta",
        ),
    ),
    (
        "payment_claim",
        (
            "i paid",
            "i have paid",
            "i've paid",
            "already paid",
            "paid in full",
            "payment was made",
            "payment was sent",
            "sent the payment",
            "sent payment",
            "mailed a check",
            "check was mailed",
            "check is in the mail",
            "confirmation number",
            "receipt attached",
            "ya pagué",
            "ya pague",
            "hice el pago",
            "envié el pago",
        ),
    ),
    (
        "promise",
        (
            "i will pay",
            "i'll pay",
            "ill pay",
            "will pay",
            "can pay",
            "going to pay",
            "i promise",
            "promise to pay",
            "will send the payment",
            "will send payment",
            "payment plan",
            "pay the rest",
            "pay the balance",
            "pagaré",
            "pagare",
            "voy a pagar",
            "puedo pagar",
        ),
    ),
)

QUESTION_WORDS = (
    "how",
    "what",
    "why",
    "when",
    "where",
    "which",
    "who",
    "could you",
    "can you",
    "cómo",
    "qué",
    "por qué",
    "cuándo",
    "cuánto",
)

OPT_OUT = re.compile(
    r"^\s*(stop|unsubscribe|stop all|cancel|end|quit|alto|baja)\s*[.!]?\s*$", re.IGNORECASE
)
OUT_OF_OFFICE_SUBJECT = re.compile(
    r"\b(out of (the )?office|automatic reply|auto[- ]?reply|autoreply|on vacation|away from "
    r"(my|the) (desk|office)|fuera de la oficina|respuesta automática)\b",
    re.IGNORECASE,
)


def _has(text: str, phrase: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)", text) is not None


def sort_message(*, subject: str, text: str, headers: Mapping[str, str]) -> Sorted:
    """The category of a message and the rule that chose it. `text` is the new text of the
    message (quoted lines of the message it answers already removed)."""
    auto = headers.get("auto-submitted", "").strip().lower()
    if auto and auto != "no":
        return Sorted("out_of_office", f"header:auto-submitted={auto}")
    for name in ("x-autoreply", "x-autorespond"):
        if headers.get(name):
            return Sorted("out_of_office", f"header:{name}")
    if OUT_OF_OFFICE_SUBJECT.search(subject):
        return Sorted("out_of_office", "subject:out of office")
    first = next((line for line in text.splitlines() if line.strip()), "")
    bare_subject = re.sub(r"^\s*((re|aw|fwd?)\s*:\s*)+", "", subject, flags=re.IGNORECASE)
    if OPT_OUT.match(first) or OPT_OUT.match(bare_subject):
        return Sorted("opt_out", "stop:first line or subject")
    lower = f"{bare_subject}\n{text}".lower()
    for category, phrases in PHRASES:
        for phrase in phrases:
            if _has(lower, phrase):
                return Sorted(category, f'{category}:phrase "{phrase}"')
    if "?" in lower:
        return Sorted("question", 'question:"?"')
    for word in QUESTION_WORDS:
        if re.search(r"(?:^|[.!\n]\s*)" + re.escape(word) + r"\b", lower):
            return Sorted("question", f'question:starts "{word}"')
    return Sorted("other", "other:no rule matched")


def new_text(body: str) -> str:
    """The part of a reply its sender wrote: quoted lines (">") and everything after a
    "On … wrote:" line or an "-----Original Message-----" line dropped."""
    kept = []
    for line in body.splitlines():
        stripped = line.strip()
        if stripped.startswith(">"):
            continue
        if re.match(
            r"^(on .{0,200} wrote:|el .{0,200} escribió:|-{2,}\s*original message"
            r"\s*-{2,}|from: .+)$",
            stripped,
            re.IGNORECASE,
        ):
            break
        kept.append(line)
    return "\n".join(kept).strip()


ACCOUNT_TOKEN = re.compile(r"\b[A-Z0-9][A-Z0-9-]{2,40}\b", re.IGNORECASE)
UNIT = re.compile(
    r"\b(?:unit|apt\.?|apartment|suite|ste\.?|apto\.?|departamento|#)\s*#?\s*"
    r"([0-9][A-Z0-9-]{0,9}|[A-Z][0-9][A-Z0-9-]{0,8})\b",
    re.IGNORECASE,
)


def account_tokens(text: str) -> list[str]:
    """Words of the text that could be account numbers (letters, digits and dashes, with a digit
    or a dash in them), in order, without repeats."""
    seen: dict[str, None] = {}
    for token in ACCOUNT_TOKEN.findall(text):
        if "-" in token.strip("-") or any(c.isdigit() for c in token):
            seen.setdefault(token.upper(), None)
    return list(seen)


def unit_numbers(text: str) -> list[str]:
    """Unit numbers the text names ("unit 3B", "apt. 12", "#5A"), in order, without repeats."""
    seen: dict[str, None] = {}
    for unit in UNIT.findall(text):
        seen.setdefault(unit.upper(), None)
    return list(seen)
