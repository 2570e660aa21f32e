"""The Spanish catalogue is complete and compiled (issue 15, item 8): every entry translated,
none fuzzy, the file compiles (gettext's `msgfmt --check`: placeholders kept, no duplicate), and
the committed .mo is the .po compiled."""

from __future__ import annotations

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
