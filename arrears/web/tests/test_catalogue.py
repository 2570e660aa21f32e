"""The Spanish catalogue is complete and compiled (issue 15, item 8): every entry translated,
none fuzzy, the file compiles (gettext's `msgfmt --check`: placeholders kept, no duplicate), and
the committed .mo is the .po compiled."""

from __future__ import annotations

import ast
import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from arrears.web.tests.english import CATALOGUE

PO = CATALOGUE.with_suffix(".po")


def _entries(text: str) -> list[str]:
    return [block for block in re.split(r"\n\s*\n", text) if "msgid" in block]


def test_no_entry_is_fuzzy_or_left_untranslated():
    # given the web's Spanish catalogue, entry by entry
    fuzzy, untranslated = [], []
    for entry in _entries(PO.read_text(encoding="utf-8"))[1:]:  # the header first
        msgid = re.search(r'^msgid "(.*)"', entry, re.M)
        name = msgid.group(1) if msgid else entry
        if re.search(r"^#,.*\bfuzzy\b", entry, re.M):
            fuzzy.append(name)
        # a translation is every msgstr (or msgstr[n]) with some text on its lines
        for found in re.finditer(r'^msgstr(?:\[\d+\])? ((?:".*"\n?)+)', entry + "\n", re.M):
            if not "".join(re.findall(r'"(.*)"', found.group(1))):
                untranslated.append(name)
    # then each is translated and none is a guess
    assert fuzzy == []
    assert untranslated == []


@pytest.mark.skipif(
    shutil.which("msgfmt") is None, reason="needs gettext (apt-get install gettext)"
)
def test_the_catalogue_compiles_and_the_committed_mo_is_it(tmp_path: Path):
    # when gettext compiles the .po, checking its format strings
    compiled = tmp_path / "django.mo"
    run = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", str(compiled), str(PO)],
        capture_output=True,
        text=True,
        check=False,
    )
    # then it compiles, every message translated
    assert run.returncode == 0, run.stderr
    assert "untranslated" not in run.stderr
    assert "fuzzy" not in run.stderr
    # and the committed .mo says the same (compilemessages was run after the last edit)
    with compiled.open("rb") as fresh, CATALOGUE.open("rb") as committed:
        assert gettext.GNUTranslations(committed)._catalog == (  # type: ignore[attr-defined]
            gettext.GNUTranslations(fresh)._catalog  # type: ignore[attr-defined]
        )


GETTEXT = {"_", "gettext", "gettext_lazy", "gettext_noop", "pgettext", "pgettext_lazy"}


def _marked(root: Path) -> set[tuple[str, str]]:
    """Every string the code puts through gettext, with where: an error's template, a label."""
    found: set[tuple[str, str]] = set()
    for path in root.rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            name, args = node.func.id, node.args
            if name not in GETTEXT or not args or not isinstance(args[-1], ast.Constant):
                continue
            text = args[-1].value
            if name.startswith("pgettext") and isinstance(args[0], ast.Constant):
                text = f"{args[0].value}\x04{text}"
            found.add((str(text), str(path.relative_to(root))))
    return found


def test_every_string_the_code_marks_is_in_the_catalogue():
    # given every string the code marks for translation (DomainError templates among them)
    marked = _marked(Path(__file__).resolve().parents[2])
    assert len(marked) > 200
    with CATALOGUE.open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
    msgids = {key[0] if isinstance(key, tuple) else key for key in catalogue}
    # then the Spanish catalogue has each (makemessages was run and its news translated)
    assert sorted(f"{where}: {text!r}" for text, where in marked if text not in msgids) == []
