"""Letters to PDF, fast and reproducible, in parallel processes.

WeasyPrint spends most of a one-page letter subsetting its fonts (fontTools reading DejaVu's
large layout tables), so each process first cuts the letter font down once, to the Latin
characters letters use, without layout tables, and renders with that small font, one parsed
stylesheet and one font configuration for its whole life. A
glyph outside the cut (another script) falls back to the machine's fonts through fontconfig.

The same HTML always gives the same bytes (SOURCE_DATE_EPOCH fixes the font timestamps fontTools
would otherwise take from the clock), so a letter rendered again after a crash matches the
archived one.
"""

from __future__ import annotations

import atexit
import ctypes
import hashlib
import multiprocessing
import os
import signal
import sys
import tempfile
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

from arrears.core.pdf import allow_file, shipped_only

# Fixed timestamps in fontTools' output: the PDF of a given HTML is the same bytes every time.
os.environ.setdefault("SOURCE_DATE_EPOCH", "1767225600")

CSS_FILE = Path(__file__).parent / "templates" / "correspondence" / "letter.css"
FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/local/share/fonts",
)
FONTS = {"normal": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf"}
# Basic Latin to Latin Extended-B (English, Spanish and other Western languages, §, ·), general
# punctuation (dashes, quotes, …), the euro and trademark signs.
UNICODES = [*range(0x20, 0x250), *range(0x2010, 0x2028), 0x20AC, 0x2122]

_state: dict[str, Any] = {}
# Drop the renderer before the interpreter tears WeasyPrint down (its __del__ needs it alive).
atexit.register(_state.clear)


def _cut_font(source: Path, target: Path) -> None:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.layout_features = []
    options.drop_tables += ["FFTM", "GDEF", "GPOS", "GSUB", "MATH"]
    options.hinting = False
    options.name_IDs = ["*"]
    font = TTFont(str(source))
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=UNICODES)
    subsetter.subset(font)
    partial = target.with_suffix(f".{os.getpid()}.part")
    font.save(str(partial))
    os.replace(partial, target)  # atomic: another process may be cutting the same font


def _letter_fonts() -> str:
    """@font-face rules for the cut letter font ("" if DejaVu Sans is not on this machine)."""
    rules = []
    for weight, name in FONTS.items():
        source = next((Path(d) / name for d in FONT_DIRS if (Path(d) / name).exists()), None)
        if source is None:
            return ""
        stamp = hashlib.sha256(f"{source}:{source.stat().st_size}:{len(UNICODES)}".encode())
        target = Path(tempfile.gettempdir()) / f"arrears-letter-{stamp.hexdigest()[:12]}.ttf"
        if not target.exists():
            _cut_font(source, target)
        allow_file(target)
        rules.append(
            f'@font-face {{ font-family: "Letter Sans"; font-weight: {weight}; '
            f'src: url("{target.as_uri()}"); }}'
        )
    return "\n".join(rules)


def _renderer() -> tuple[Any, Any]:
    if "css" not in _state:
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        fonts = FontConfiguration()
        faces = _letter_fonts()
        text = CSS_FILE.read_text(encoding="utf-8")
        if faces:
            family = 'font-family: "Letter Sans", "DejaVu Sans"'
            text = faces + "\n" + text.replace('font-family: "DejaVu Sans"', family)
        _state["fonts"] = fonts
        _state["css"] = CSS(string=text, font_config=fonts, url_fetcher=shipped_only())
    return _state["css"], _state["fonts"]


def letter_pdf(html: str) -> bytes:
    """The PDF of one letter page's HTML (correspondence/letter.html), with the letter style."""
    from weasyprint import HTML

    css, fonts = _renderer()
    page = HTML(string=html, url_fetcher=shipped_only())
    return bytes(page.write_pdf(stylesheets=[css], font_config=fonts))


def letters_pdf(htmls: list[str]) -> list[bytes]:
    """`letter_pdf` of each: one task of a worker process."""
    return [letter_pdf(h) for h in htmls]


# Linux prctl(2) option: the signal a process gets when its parent dies.
PR_SET_PDEATHSIG = 1


def _die_with(parent: int) -> None:
    """Make this worker die with the process that started it: a batch killed (kill -9) leaves
    no renderer behind, holding memory and the pool's pipes."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    # The parent may have died before the call above: then this worker is an orphan already.
    if os.getppid() != parent:
        os._exit(1)


def _warm(parent: int) -> None:
    _die_with(parent)
    _renderer()


def render_parallel(chunks: Iterable[list[str]], *, workers: int = 2) -> Iterator[list[bytes]]:
    """The PDFs of each chunk of HTML pages, in order, rendered by `workers` processes.

    At most two chunks per worker are in flight, so memory stays flat however long the batch:
    the caller builds the next chunk while the workers render. workers=1 renders in-process.
    """
    if workers <= 1:
        for chunk in chunks:
            yield letters_pdf(chunk)
        return
    # fork: the workers never touch the database, and inherit the renderer warmed here (pango,
    # the cut font, the parsed stylesheet), so they start in milliseconds.
    _renderer()
    context = multiprocessing.get_context("fork")
    # The workers are started from this thread (on the first submit), which lives as long as the
    # pool: the parent-death signal is tied to the thread that forked them.
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_warm, initargs=(os.getpid(),)
    ) as pool:
        pending: list[Future[list[bytes]]] = []
        for chunk in chunks:
            pending.append(pool.submit(letters_pdf, chunk))
            if len(pending) >= 2 * workers:
                yield pending.pop(0).result()
        for future in pending:
            yield future.result()


def concat_pdfs(paths: Iterable[Path], target: Path) -> int:
    """Write the pages of `paths`, in order, as one PDF at `target`; returns the page count.

    Streaming, so memory stays flat however many letters: one input is read at a time, its
    objects renumbered and written out at once, and only the byte offsets (for the cross-reference
    table) and the page numbers are kept. Object 1 is the catalog, 2 the page tree. pypdf reads
    every input; only the writing is ours, because pypdf's `PdfWriter` holds every page until it
    writes: `bench/concat.py` merged 4,000 one-page letters in 42 s at a peak of 54 MB here,
    and in 67 s at 425 MB with `PdfWriter.append` (about 100 KB more per letter: a day's batch
    of 20,000 notices would need 2 GB).
    """
    with target.open("wb") as out:
        stream = _PdfStream(out)
        for path in paths:
            stream.append(path)
        stream.finish()
    return len(stream.kids)


class _PdfStream:
    """One output PDF written as its inputs are read: each input's objects renumbered and written
    out at once; only the byte offsets and the page numbers are kept. Object 1 is the catalog,
    2 the page tree."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.offsets: dict[int, int] = {}
        self.kids: list[int] = []
        self.number = 2
        # Marks references already renumbered: a direct object shared by two objects (pypdf
        # shares some) is seen twice, and its references must not be renumbered again.
        self.done = object()
        out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")

    def append(self, path: Path) -> None:
        """Write the objects of one input, its pages added to the page tree."""
        from pypdf import PdfReader
        from pypdf.generic import DictionaryObject, IndirectObject, NameObject

        reader = PdfReader(str(path))
        renumbered: dict[tuple[int, int], int] = {}
        pending: list[tuple[int, Any]] = []
        for page in reader.pages:
            ref = page.indirect_reference
            assert ref is not None
            self.kids.append(self._new_ref(ref, renumbered, pending).idnum)
        while pending:
            num, ref = pending.pop(0)
            obj = self._relink(ref.get_object(), renumbered, pending)
            if isinstance(obj, DictionaryObject) and obj.get("/Type") == "/Page":
                obj[NameObject("/Parent")] = IndirectObject(2, 0, self.done)  # type: ignore[arg-type]
            self.offsets[num] = self.out.tell()
            self.out.write(f"{num} 0 obj\n".encode())
            obj.write_to_stream(self.out)
            self.out.write(b"\nendobj\n")

    def _new_ref(
        self, ref: Any, renumbered: dict[tuple[int, int], int], pending: list[tuple[int, Any]]
    ) -> Any:
        from pypdf.generic import IndirectObject

        key = (ref.idnum, ref.generation)
        if key not in renumbered:
            self.number += 1
            renumbered[key] = self.number
            pending.append((self.number, ref))
        return IndirectObject(renumbered[key], 0, self.done)  # type: ignore[arg-type]

    def _relink(
        self, value: Any, renumbered: dict[tuple[int, int], int], pending: list[tuple[int, Any]]
    ) -> Any:
        from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

        if isinstance(value, IndirectObject):
            return value if value.pdf is self.done else self._new_ref(value, renumbered, pending)
        if isinstance(value, DictionaryObject):
            for k in list(value):
                if k != "/Parent":
                    # raw_get: `value[k]` resolves a reference, which would write the object
                    # (a page's content stream) inline, and a stream is only ever an indirect
                    # object (ISO 32000-1 §7.3.8.1): poppler refuses such a page.
                    value[k] = self._relink(value.raw_get(k), renumbered, pending)
        elif isinstance(value, ArrayObject):
            for i, item in enumerate(value):
                value[i] = self._relink(item, renumbered, pending)
        return value

    def finish(self) -> None:
        """The catalog, the page tree, the cross-reference table and the trailer."""
        out, number = self.out, self.number
        self.offsets[1] = out.tell()
        out.write(b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n")
        self.offsets[2] = out.tell()
        refs = " ".join(f"{k} 0 R" for k in self.kids)
        out.write(
            f"2 0 obj\n<< /Type /Pages /Kids [{refs}] /Count {len(self.kids)} >>\nendobj\n".encode()
        )
        xref = out.tell()
        out.write(f"xref\n0 {number + 1}\n0000000000 65535 f \n".encode())
        for num in range(1, number + 1):
            out.write(f"{self.offsets[num]:010d} 00000 n \n".encode())
        out.write(
            f"trailer\n<< /Size {number + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
        )
