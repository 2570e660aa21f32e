"""HTML to PDF (WeasyPrint) and PDF back to text (pypdf), shared by every part that prints.

Rendering is a pure function of the HTML: the caller renders its Django template first. Fonts are
the machine's (fontconfig).

Invariant: WeasyPrint fetches nothing but what Arrears ships. A company's template is written by an
admin and printed into tenants' letters; left to WeasyPrint's default fetcher, its
`<link rel="attachment" href="file:///proc/self/environ">` would attach the server's environment
(the database URL with its password) to every letter, and `<img src="http://…">` would make the
server request any address. Every PDF is made with `shipped_only()`, which allows `data:` URIs and
the files of the `arrears` package's own static and template folders (and the letter font that
`correspondence.pdfs` cuts from the machine's DejaVu Sans, registered by `allow_file`), and refuses
any other URL: WeasyPrint then leaves that resource out and logs why.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

PACKAGE = Path(__file__).resolve().parent.parent  # the `arrears` package
# Only these kinds of file, only below a `static` or `templates` folder of the package.
SHIPPED_SUFFIXES = frozenset(
    {".css", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".ttf", ".otf", ".woff", ".woff2"}
)
SHIPPED_FOLDERS = frozenset({"static", "templates"})
_allowed_files: set[str] = set()


class FetchRefusedError(ValueError):
    """A document asked for a resource Arrears does not ship (WeasyPrint leaves it out)."""


def allow_file(path: Path) -> None:
    """Let PDFs load one more local file (a font this process made); nothing else widens it."""
    _allowed_files.add(os.path.realpath(path))


def is_shipped(path: str) -> bool:
    """Whether the file at `path` (links resolved) is one Arrears ships or made for its PDFs."""
    real = os.path.realpath(path)
    if real in _allowed_files:
        return True
    resolved = Path(real)
    try:
        inside = resolved.relative_to(PACKAGE)
    except ValueError:
        return False
    return resolved.suffix.lower() in SHIPPED_SUFFIXES and any(
        part in SHIPPED_FOLDERS for part in inside.parts[:-1]
    )


def shipped_only() -> Any:
    """A WeasyPrint URL fetcher that allows `data:` URIs and shipped files only (module
    docstring); any other URL raises FetchRefusedError, which WeasyPrint turns into a warning and
    a resource left out."""
    from urllib.request import url2pathname

    from weasyprint.urls import URLFetcher

    class ShippedOnly(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            scheme = url.partition(":")[0].lower()
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme == "file":
                path = url2pathname(url.split("?")[0].split("#")[0].removeprefix("file:"))
                if is_shipped(path):
                    return super().fetch(url, headers)
            raise FetchRefusedError(
                f"not fetched: {url[:200]} (PDFs load only what Arrears ships and data: URIs)"
            )

    return ShippedOnly(allowed_protocols=("data", "file"), allow_redirects=False)


def render_pdf(html: str, base_url: str | None = None) -> bytes:
    """The PDF of an HTML document, as bytes; it loads nothing but what Arrears ships."""
    from weasyprint import HTML  # imported late: loading pango costs ~0.3 s

    return bytes(HTML(string=html, base_url=base_url, url_fetcher=shipped_only()).write_pdf())


def pdf_text(data: bytes) -> str:
    """The text of every page of a PDF, pages separated by form feeds (for checks and search)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return "\f".join(page.extract_text() or "" for page in reader.pages)


def pdf_page_count(data: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(data)).pages)
