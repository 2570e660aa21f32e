"""One generator of synthetic books: the benchmarks import it, and a seed gives the same rows."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from datetime import date
from pathlib import Path
from types import ModuleType

from arrears.demo import generator

BENCH = Path(__file__).resolve().parents[3] / "bench"
FILES = ("properties.csv", "parties.csv", "accounts.csv", "account_parties.csv", "transactions.csv")
TODAY = date(2026, 11, 1)


def bench_module(name: str) -> ModuleType:
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        # registered while it runs, as `python bench/NAME.py` has it: its dataclasses look it up
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module
    finally:
        sys.modules.pop(name, None)
        sys.path.remove(str(BENCH))


def test_the_benchmarks_generate_their_books_with_the_demos_generator() -> None:
    # given the benchmark scripts
    book, cycle = bench_module("book"), bench_module("cycle")
    # then the book they generate is the generator's, and so are the NY/CA properties
    assert book.cached_book.__globals__["synthetic_book"] is generator.synthetic_book
    assert book.cached_book.__globals__["GENERATOR_VERSION"] == generator.GENERATOR_VERSION
    assert cycle.cycle_book.__globals__["property_lines"] is generator.property_lines
    assert not hasattr(book, "generate_book")


def test_a_seed_gives_the_same_rows_twice_and_another_seed_others(tmp_path: Path) -> None:
    # when a small book is generated twice from one seed, and once from another
    first = generator.synthetic_book(tmp_path / "a", 30, 1500, 5, TODAY)
    generator.synthetic_book(tmp_path / "b", 30, 1500, 5, TODAY)
    generator.synthetic_book(tmp_path / "c", 30, 1500, 6, TODAY)
    # then the files are the same byte for byte, and another seed's transactions differ
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    transactions = (tmp_path / "a" / "transactions.csv").read_text().splitlines()
    assert len(transactions) == first["transactions"] + 1
    assert transactions[1:] != (tmp_path / "c" / "transactions.csv").read_text().splitlines()[1:]


def test_the_ny_ca_variant_changes_only_the_properties_states(tmp_path: Path) -> None:
    # given a book in the default states and the same book in New York and California
    generator.synthetic_book(tmp_path / "all", 250, 5000, 2, TODAY)
    generator.synthetic_book(tmp_path / "nyca", 250, 5000, 2, TODAY, generator.NY_CA_STATES)
    # then only properties.csv differs, and it is what property_lines gives
    for name in FILES[1:]:
        assert (tmp_path / "all" / name).read_bytes() == (tmp_path / "nyca" / name).read_bytes()
    lines = generator.property_lines(250, 5000, 2, TODAY, generator.NY_CA_STATES)
    assert (tmp_path / "nyca" / "properties.csv").read_text() == "".join(lines)
    states = [line.split(",")[4] for line in lines[1:]]
    assert states == ["NY", "CA", "NY"]


def test_the_generators_import_no_django() -> None:
    code = (
        "import sys, arrears.demo.generator, arrears.demo.book\n"
        "sys.exit(any(name.startswith('django') for name in sys.modules))"
    )
    root = Path(__file__).resolve().parents[3]
    assert subprocess.run([sys.executable, "-c", code], cwd=root, check=False).returncode == 0
