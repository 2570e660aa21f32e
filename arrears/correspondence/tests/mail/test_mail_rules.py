"""The sorting rules, database-free: each message lands by the rule it names."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears.correspondence.mail_rules import account_tokens, new_text, sort_message, unit_numbers


@pytest.mark.parametrize(
    ("subject", "text", "headers", "category", "rule"),
    [
        (
            "Re: rent",
            "I don't owe this, I was never charged a late fee before.",
            {},
            "dispute",
            'dispute:phrase "don\'t owe"',
        ),
        (
            "Re: rent",
            "I paid on the 3rd but the amount is wrong.",
            {},
            "dispute",
            'dispute:phrase "is wrong"',
        ),
        (
            "Re: rent",
            "I already paid, confirmation number 88812.",
            {},
            "payment_claim",
            'payment_claim:phrase "already paid"',
        ),
        (
            "Re: renta",
            "Ya pagué la renta de marzo.",
            {},
            "payment_claim",
            'payment_claim:phrase "ya pagué"',
        ),
        (
            "Re: rent",
            "I can pay 600 on the 15th and the rest on the 30th.",
            {},
            "promise",
            'promise:phrase "can pay"',
        ),
        ("Re: renta", "Voy a pagar el viernes.", {}, "promise", 'promise:phrase "voy a pagar"'),
        ("Re: rent", "How do I pay by card", {}, "question", 'question:starts "how"'),
        ("Re: rent", "Where do I send the check?", {}, "question", 'question:"?"'),
        ("Out of Office: Re: rent", "I am away.", {}, "out_of_office", "subject:out of office"),
        (
            "Re: rent",
            "I will pay Friday.",
            {"auto-submitted": "auto-replied"},
            "out_of_office",
            "header:auto-submitted=auto-replied",
        ),
        ("Re: rent", "STOP", {}, "opt_out", "stop:first line or subject"),
        ("unsubscribe", "", {}, "opt_out", "stop:first line or subject"),
        ("Re: rent", "Thanks, noted.", {}, "other", "other:no rule matched"),
    ],
)
def test_each_message_is_sorted_by_the_first_rule_that_matches(
    subject: str, text: str, headers: dict[str, str], category: str, rule: str
) -> None:
    got = sort_message(subject=subject, text=text, headers=headers)
    assert (got.category, got.rule) == (category, rule)


def test_a_phrase_matches_whole_words_only() -> None:
    # "will payroll" is no promise; "stopped" is no opt-out
    got = sort_message(
        subject="Re: rent", text="My employer will payroll me late. It stopped.", headers={}
    )
    assert got.category == "other"


def test_the_new_text_of_a_reply_leaves_the_quoted_message_out() -> None:
    body = "I will pay Friday.\n\nOn Mon, Mar 2, 2026, Elm Court wrote:\n> You owe 1,200.00"
    assert new_text(body) == "I will pay Friday."
    assert new_text("Ok\n> quoted\nmore") == "Ok\nmore"


def test_account_and_unit_numbers_in_a_text() -> None:
    text = "Re: account A-TINA, Apt. 3B (also apartment 12, unit #5A) and a-tina again"
    # (fewer than three characters is no account number: "3B" is a unit)
    assert account_tokens(text) == ["A-TINA"]
    assert account_tokens("invoice 100234 and INV-2026-17") == ["100234", "INV-2026-17"]
    assert unit_numbers(text) == ["3B", "12", "5A"]


@given(
    subject=st.text(max_size=80),
    text=st.text(max_size=400),
    auto=st.sampled_from(["", "no", "auto-replied", "auto-generated"]),
)
def test_every_message_gets_one_known_category_and_a_named_rule(
    subject: str, text: str, auto: str
) -> None:
    got = sort_message(subject=subject, text=text, headers={"auto-submitted": auto})
    assert got.category in {
        "out_of_office",
        "opt_out",
        "dispute",
        "payment_claim",
        "promise",
        "question",
        "other",
    }
    assert got.rule.split(":")[0] in {"header", "subject", "stop", got.category}
    assert got.needs_answer == (got.category in {"dispute", "payment_claim", "promise", "question"})
    if auto in ("auto-replied", "auto-generated"):
        assert got.category == "out_of_office"


@given(
    st.lists(
        st.text(alphabet=st.characters(blacklist_categories=["Cs", "Zl", "Zp", "Cc"]), max_size=40),
        max_size=12,
    )
)
def test_the_new_text_keeps_no_quoted_line(lines: list[str]) -> None:
    kept = new_text("\n".join(lines))
    assert not any(line.strip().startswith(">") for line in kept.splitlines())
