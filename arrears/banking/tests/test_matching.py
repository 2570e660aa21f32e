"""The matching rules (arrears.banking.matching), each with its story, on a book of three
tenants made by hand. Pure: no database."""

from __future__ import annotations

from decimal import Decimal

from arrears.banking.matching import LineFacts, MatchBook, match_line, rules_load

RULES = rules_load()
# A-1001 Zoë Núñez, unit 4B (owes 1,250.00); A-1002 John Smith, unit 7 (owes 980.00);
# A-1003 Jon Smyth, unit 7 of another building (owes 980.00 too)
BOOK = MatchBook(
    account_numbers={"A-1001": 1, "A-1002": 2, "A-1003": 3},
    units={"4b": [1], "7": [2, 3]},
    names={"zoe nunez": [1], "john smith": [2], "jon smyth": [3]},
    open_amounts={125000: [1], 98000: [2, 3]},
    payer_accounts={"021000021:99887766": 2},
    name_choices=["zoe nunez", "john smith", "jon smyth"],
)


def _line(amount: str = "1.00", name: str = "", account: str = "", text: str = "") -> LineFacts:
    return LineFacts(Decimal(amount), name, account, text)


def test_the_account_number_in_the_text_posts() -> None:
    found = match_line(BOOK, _line(text="RENT a-1002 MARCH"), RULES)
    assert found is not None
    assert (found.account_pk, found.rule, found.confidence, found.auto) == (
        2,
        "account_number",
        Decimal("1.0"),
        True,
    )


def test_a_unit_only_one_account_has_is_a_suggestion_for_review() -> None:
    found = match_line(BOOK, _line(text="Apt 4B march rent"), RULES)
    assert found is not None
    assert (found.account_pk, found.rule, found.auto) == (1, "unit_number", False)
    # unit 7 is in two buildings: it names no one
    assert match_line(BOOK, _line(text="unit 7"), RULES) is None


def test_the_payers_name_matches_whatever_its_accents_and_case() -> None:
    found = match_line(BOOK, _line(name="ZOE NUNEZ"), RULES)
    assert found is not None
    assert (found.account_pk, found.rule, found.confidence, found.auto) == (
        1,
        "payer_name",
        Decimal("0.95"),
        True,
    )
    found = match_line(BOOK, _line(name="Núñez, Zoë"), RULES)  # surname first
    assert found is not None
    assert (found.account_pk, found.auto) == (1, True)


def test_a_name_below_the_threshold_names_no_one() -> None:
    assert match_line(BOOK, _line(name="Zachary Nunn"), RULES) is None


def test_a_name_in_a_statements_text_is_a_suggestion_for_review() -> None:
    # a BAI2 line has no payer's name: the bank writes it into the text
    found = match_line(BOOK, _line(text="ZELLE FROM ZOË NÚÑEZ REF 88412"), RULES)
    assert found is not None
    assert (found.account_pk, found.rule, found.confidence, found.auto) == (
        1,
        "name_in_text",
        Decimal("0.8"),
        False,
    )
    # a surname alone, or a name split by other words, names no one
    assert match_line(BOOK, _line(text="ZELLE FROM SMITH"), RULES) is None
    assert match_line(BOOK, _line(text="JOHN PAID FOR SMITH"), RULES) is None


def test_an_exact_open_amount_of_one_account_is_only_a_suggestion() -> None:
    found = match_line(BOOK, _line(amount="1250.00"), RULES)
    assert found is not None
    assert (found.account_pk, found.rule, found.auto) == (1, "open_amount", False)
    # 980.00 is owed by two accounts: no one
    assert match_line(BOOK, _line(amount="980.00"), RULES) is None


def test_a_bank_account_that_paid_before_posts() -> None:
    found = match_line(BOOK, _line(account="021000021:99887766"), RULES)
    assert found is not None
    assert (found.account_pk, found.rule, found.auto) == (2, "payer_account", True)


def test_the_rule_sure_enough_wins_over_an_earlier_suggestion() -> None:
    # unit 4B suggests A-1001, but the bank account that paid A-1002 before is surer
    found = match_line(BOOK, _line(text="apt 4B", account="021000021:99887766"), RULES)
    assert found is not None
    assert (found.account_pk, found.rule) == (2, "payer_account")
