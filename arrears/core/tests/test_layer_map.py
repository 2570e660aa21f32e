"""The layer map is one map: the line docs/architecture.md draws is the import-linter contract's
layers, and every part of the `arrears` package is on it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _documented() -> list[set[str]]:
    """The layers of docs/architecture.md's map line, top first, each a set of part names."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    line = re.search(r"contract says the same:\n`([^`]+)`", text)
    assert line is not None, "docs/architecture.md has lost its map line"
    return [{p.strip() for p in layer.split("|")} for layer in line.group(1).split("→")]


def _contracted() -> list[set[str]]:
    """The layers of the import-linter contract, top first, `arrears.` and an optional layer's
    parentheses left out."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    (contract,) = config["tool"]["importlinter"]["contracts"]
    return [
        {p.strip().strip("()").removeprefix("arrears.") for p in layer.split("|")}
        for layer in contract["layers"]
    ]


def test_the_documented_map_is_the_contract():
    # given the map a newcomer reads and the contract lint-imports enforces
    documented, contracted = _documented(), _contracted()

    # then they are the same layers in the same order
    assert documented == contracted


def test_every_part_of_the_package_is_on_the_map():
    # given the parts of the arrears package (its subpackages)
    parts = {p.name for p in (ROOT / "arrears").iterdir() if (p / "__init__.py").exists()}

    # when the map's parts are gathered
    mapped = set().union(*_contracted())

    # then none is left off, where lint-imports would not look at its imports
    assert parts - mapped == set()
