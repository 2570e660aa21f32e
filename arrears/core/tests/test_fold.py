"""The fold search compares names by: accents and case dropped, the same on both databases."""

from __future__ import annotations

from arrears.core.fold import fold


def test_a_name_folds_without_its_accents_and_in_lower_case():
    assert {fold(n) for n in ("García", "GARCÍA", "Garcia", "garcia", "Garci\u0301a")} == {"garcia"}


def test_letters_without_a_separable_accent_are_spelled_out():
    assert fold("Łódź Ærøskøbing Straße Œuvre Þór") == "lodz aeroskobing strasse oeuvre thor"


def test_what_has_no_accent_is_only_lowered():
    assert fold("O'Brien-Smith 4B") == "o'brien-smith 4b"
