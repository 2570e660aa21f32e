"""A domain error is a code and its facts; its message is worded in the active language, and the
services' own wording names no interface's flag or command."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from arrears.core.errors import DomainError, ValidationError

ARREARS = Path(__file__).resolve().parents[2]
SERVICES = ("dunning", "plans", "disputes", "correspondence", "access", "ledger")
INTERFACE_WORDS = re.compile(r"(^|\s|\(|`)--[a-z]|`arrears [a-z]")


def test_a_template_is_filled_with_the_facts_in_the_active_language():
    # given the refusal of a hold that ends before it starts
    error = ValidationError(
        _("the hold ends on {until}, before it starts ({start})"),
        code="hold_ends_before_start",
        until="2026-03-01",
        start="2026-03-26",
    )
    # when it is read in English and in Spanish
    with translation.override("en"):
        english = error.message
    with translation.override("es"):
        spanish = str(error)
    # then each is the template filled in, and the code and kind are the error's
    assert english == "the hold ends on 2026-03-01, before it starts (2026-03-26)"
    assert spanish.startswith("la suspensión termina el 2026-03-01")
    assert (error.code, error.kind) == ("hold_ends_before_start", "invalid")
    assert ValidationError("plain").code == "invalid"


def test_a_worded_message_is_kept_as_it_is_whatever_braces_its_facts_hold():
    # given a message already worded (a plain string) about an account named with braces
    error = DomainError("no account '{x}'", account_id="{x}")
    # then it is not filled in again
    assert error.message == "no account '{x}'"
    assert error.as_dict() == {
        "code": "error",
        "message": "no account '{x}'",
        "extra": {"account_id": "{x}"},
    }


def _error_classes(trees: list[ast.Module]) -> set[str]:
    """The names of DomainError and of every class derived from it in the trees."""
    names = {"DomainError", "ValidationError", "NotFoundError"}
    grown = True
    while grown:
        found = {
            node.name
            for tree in trees
            for node in ast.walk(tree)
            if isinstance(node, ast.ClassDef)
            and any(isinstance(b, ast.Name) and b.id in names for b in node.bases)
        }
        grown = not found <= names
        names |= found
    return names


def _raised_texts(tree: ast.Module, classes: set[str]) -> list[tuple[int, str]]:
    """Every string literal (f-string parts too) in the arguments of a call of an error class."""
    texts = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        if node.func.id in classes:
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                texts += [
                    (c.lineno, c.value)
                    for c in ast.walk(arg)
                    if isinstance(c, ast.Constant) and isinstance(c.value, str)
                ]
    return texts


def test_no_service_words_an_error_with_a_command_line_flag_or_command():
    # given the services' sources (their tests aside)
    files = [
        path
        for part in SERVICES
        for path in sorted((ARREARS / part).rglob("*.py"))
        if "tests" not in path.parts
    ]
    trees = [ast.parse(path.read_text(encoding="utf-8")) for path in files]
    classes = _error_classes(trees)
    # when every text given to a domain error is read
    flagged = [
        f"{path.relative_to(ARREARS)}:{line}: {text}"
        for path, tree in zip(files, trees, strict=True)
        for line, text in _raised_texts(tree, classes)
        if INTERFACE_WORDS.search(text)
    ]
    # then none names a flag (--amount) or a command (`arrears period reopen`)
    assert len(files) > 50
    assert {"PeriodClosedError", "GuardRefusedError", "DisputedBalanceError"} <= classes
    assert flagged == []
