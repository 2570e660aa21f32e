"""How the pages word what came of a form: a refusal of the compliance guard, a question to
confirm, a letter's missing field, in the user's language and in plain words (never a flag of
the command line nor a rule's internal name: "Can't log this call now: it is 3:21 AM in New
York; calls are allowed 8 AM – 9 PM"). The command line words the same errors its own way
(arrears.cli.wording); the API gives the code and the facts.
"""

from __future__ import annotations

import re
from datetime import time
from typing import Any

from django.utils.translation import gettext as _

from arrears.core.errors import DomainError
from arrears.web.templatetags.amounts import amount

_HOURS = re.compile(r"(\d\d):(\d\d) (\S+) is outside (\d\d):(\d\d)–(\d\d):(\d\d)")
_ATTEMPTS = re.compile(r"(\d+) call attempts in 7 days")


def clock(t: time) -> str:
    """A time of day as people say it: 8 AM, 3:21 AM, 9 PM."""
    hour = t.hour % 12 or 12
    half = "AM" if t.hour < 12 else "PM"
    return f"{hour} {half}" if t.minute == 0 else f"{hour}:{t.minute:02d} {half}"


def place(zone: str) -> str:
    """A time zone as a place: America/New_York → New York."""
    return zone.rsplit("/", 1)[-1].replace("_", " ")


def hold_words(reason: str) -> str:
    words = {
        "dispute": _("a dispute is being verified"),
        "bankruptcy": _("a bankruptcy stay"),
        "military": _("military service"),
        "cease": _("a request to stop contact"),
        "deceased": _("the party is deceased"),
        "represented": _("represented by an attorney"),
        "plan": _("a payment plan in good standing"),
        "promise": _("a promise not yet due"),
        "manual": _("a hold placed by hand"),
    }
    return words.get(reason, reason)


def _channel_words(what: str) -> str:
    words = {
        "opted out": _("the party asked not to be contacted this way"),
        "no email address": _("there is no email address"),
        "no postal address": _("there is no postal address"),
        "mail returned undeliverable": _("mail to the address came back undeliverable"),
        "no consent to texts": _("there is no consent to texts"),
        "no phone number": _("there is no phone number"),
    }
    return words.get(what, what)


def _why(rule: str, reason: str, *, then: bool = False) -> str:
    """The reason of a guard rule in plain words (`then`: of a call already made)."""
    if rule == "hours":
        m = _HOURS.search(reason)
        if m:
            facts = {
                "now": clock(time(int(m[1]), int(m[2]))),
                "place": place(m[3]),
                "start": clock(time(int(m[4]), int(m[5]))),
                "end": clock(time(int(m[6]), int(m[7]))),
            }
            if then:
                return (
                    _("the call was at %(now)s in %(place)s; calls are allowed %(start)s – %(end)s")
                    % facts
                )
            return _("it is %(now)s in %(place)s; calls are allowed %(start)s – %(end)s") % facts
    if rule == "frequency":
        m = _ATTEMPTS.search(reason)
        if m:
            return _("%(count)s call attempts in the last 7 days already (at most 7 a week)") % {
                "count": m[1]
            }
        return _("someone was reached in the last 7 days; wait 7 days after a conversation")
    if rule.startswith("hold:"):
        return _("the account is on hold (%(why)s)") % {"why": hold_words(rule[5:])}
    if rule in ("promise", "plan", "dispute"):
        return hold_words(rule)
    if rule.startswith("channel:"):
        return _channel_words(rule[8:])
    return reason


def refusal_words(rule: str, reason: str, doing: str) -> str:
    """The guard's refusal of `doing` ("log this call", "send this notice") in plain words."""
    return _("Can't %(doing)s now: %(why)s.") % {"doing": doing, "why": _why(rule, reason)}


def warning_words(rule: str, reason: str) -> str:
    """What the guard says of a call logged after the fact, which is recorded all the same."""
    return _("Logged after the fact, with the guard's warning on the timeline: %(why)s.") % {
        "why": _why(rule, reason, then=True)
    }


def field_words(name: str) -> str:
    words = {
        "addressee.name": _("the addressee's name"),
        "premises": _("the address of the premises"),
        "tenant_names": _("the tenants' names"),
        "charge": _("the rent charge it is about"),
        "amount": _("the amount due"),
        "deadline": _("the deadline"),
        "company.address_lines": _("the company's address"),
        "company.phone": _("the company's phone number"),
        "dispute": _("the dispute it answers"),
    }
    return words.get(name, name)


def question_words(q: dict[str, Any]) -> str:
    """One question asked of a promise before it is saved."""
    facts = {**q, "amount": amount(q.get("amount")), "balance": amount(q.get("balance"))}
    if q.get("code") == "above_balance":
        return _("%(amount)s is more than the balance of %(balance)s") % facts
    if q.get("code") == "far_off":
        return _("%(promised_on)s is %(days)s days away") % facts
    return _("a promise of %(amount)s by %(promised_on)s is still open") % facts


def error_words(exc: DomainError, doing: str) -> str:
    """A DomainError as a page shows it."""
    code, extra = exc.code, exc.extra
    if code == "guard_refused":
        return refusal_words(extra.get("rule", ""), extra.get("reason", ""), doing)
    if code == "promise_needs_confirmation":
        said = "; ".join(question_words(q) for q in extra.get("reasons", []))
        return _("Please check this promise before it is saved: %(said)s.") % {"said": said}
    if code == "notice_needs_confirmation":
        if extra.get("deadline"):
            return _(
                "This is a statutory notice (%(law)s); the deadline will be %(deadline)s. Send it?"
            ) % {"law": extra.get("law", ""), "deadline": extra["deadline"]}
        return _("This is a statutory notice (%(law)s). Send it?") % {"law": extra.get("law", "")}
    if code == "notice_not_for_role":
        return _("This notice is not for this party: choose one from the party's list.")
    if code == "merge_field_missing":
        fields = extra.get("fields") or [extra.get("field", "")]
        return _("Can't %(doing)s: the letter would go out without %(fields)s.") % {
            "doing": doing,
            "fields": _(" and ").join(field_words(f) for f in fields),
        }
    if code == "refund_above_credit":
        return _(
            "the account's credit is %(credit)s now, less than the refund's %(amount)s (a charge "
            "came since it was proposed); the list shows it revised to the credit left"
        ) % {"credit": extra.get("credit", ""), "amount": extra.get("amount", "")}
    if code == "notice_not_in_policy":
        return _("This notice is not one the account's policy sends.")
    if exc.extra.get("field") == "reason" and "choices" in extra:
        return _("Choose a reason.")
    return exc.message
