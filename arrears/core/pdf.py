"""HTML to PDF (WeasyPrint) and PDF back to text (pypdf), shared by every part that prints.

Rendering is a pure function of the HTML: the caller renders its Django template first. Fonts are
the machine's (fontconfig); nothing is fetched from the network.
"""

from __future__ import annotations

import io


def render_pdf(html: str, base_url: str | None = None) -> bytes:
    """The PDF of an HTML document, as bytes."""
    from weasyprint import HTML  # imported late: loading pango costs ~0.3 s

    return bytes(HTML(string=html, base_url=base_url).write_pdf())


def pdf_text(data: bytes) -> str:
    """The text of every page of a PDF, pages separated by form feeds (for checks and search)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return "\f".join(page.extract_text() or "" for page in reader.pages)


def pdf_page_count(data: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(data)).pages)
