"""Why the print file is merged by `correspondence.pdfs.concat_pdfs` and not by pypdf's writer.

    .venv/bin/python bench/concat.py                 # 2,000 one-page letters
    .venv/bin/python bench/concat.py --letters 8000

Renders one one-page letter with WeasyPrint, copies it N times, and merges the N files once with
`concat_pdfs` (streaming: one input read at a time, its objects written out at once) and once with
pypdf's `PdfWriter.append` (which holds every page of every input until it writes), each in a
process of its own so that each peak resident set is its own. Prints time, peak RSS and size.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _merge(method: str, folder: Path, count: int) -> None:
    """In this process: merge `count` copies with `method`; print seconds and peak RSS."""
    sys.path.insert(0, str(ROOT))
    paths = [folder / f"{n}.pdf" for n in range(count)]
    target = folder / f"merged-{method}.pdf"
    started = time.perf_counter()
    if method == "writer":
        from pypdf import PdfWriter

        writer = PdfWriter()
        for path in paths:
            writer.append(str(path))
        with target.open("wb") as out:
            writer.write(out)
    else:
        from arrears.correspondence.pdfs import concat_pdfs

        concat_pdfs(paths, target)
    took = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(
        f"{method:8} {count:6,} letters  {took:6.1f} s  peak RSS {peak:5} MB  "
        f"{target.stat().st_size // 1024:,} KB"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--letters", type=int, default=2000)
    ap.add_argument("--merge", choices=["stream", "writer"], help=argparse.SUPPRESS)
    ap.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.merge:
        _merge(args.merge, args.folder, args.letters)
        return
    import weasyprint

    with tempfile.TemporaryDirectory(prefix="arrears-concat-") as name:
        folder = Path(name)
        paragraph = "<p>Your rent of $1,234.56 for November was not received within five days."
        weasyprint.HTML(string=f"<html><body>{paragraph * 30}</body></html>").write_pdf(
            folder / "0.pdf"
        )
        for n in range(1, args.letters):
            shutil.copy(folder / "0.pdf", folder / f"{n}.pdf")
        print(f"one letter: {(folder / '0.pdf').stat().st_size:,} bytes")
        for method in ("stream", "writer"):
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--merge",
                    method,
                    "--folder",
                    name,
                    "--letters",
                    str(args.letters),
                ],
                check=True,
            )


if __name__ == "__main__":
    main()
