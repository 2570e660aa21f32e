"""PDFs load nothing but what Arrears ships: a hostile template can neither read the server's
files into a PDF nor make the server request an address (issue 13, item 1)."""

from __future__ import annotations

import io
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from pypdf import PdfReader

from arrears.core.pdf import is_shipped, pdf_text, render_pdf
from arrears.correspondence.pdfs import CSS_FILE, letter_pdf

SECRET = "arrears-test-secret-7f3a"


@pytest.fixture
def secret_file(tmp_path):
    path = tmp_path / "environ"
    path.write_text(f"DATABASE_URL=postgres://admin:{SECRET}@db/book\n")
    return path


@pytest.fixture
def listener():
    """A loopback HTTP server that counts the requests it gets."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"body { color: red }")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", asked
    server.shutdown()
    server.server_close()


def _attachments(data: bytes) -> dict[str, list[bytes]]:
    return dict(PdfReader(io.BytesIO(data)).attachments)


@pytest.mark.parametrize("render", [render_pdf, letter_pdf], ids=["render_pdf", "letter_pdf"])
def test_a_template_cannot_attach_a_server_file_to_the_pdf(render, secret_file):
    # given: the attack of a hostile company template, and the same through a stylesheet and image
    html = (
        f'<html><head><link rel="attachment" href="{secret_file.as_uri()}">'
        f'<link rel="stylesheet" href="{secret_file.as_uri()}"></head>'
        f'<body><p>Dear tenant</p><img src="{secret_file.as_uri()}">'
        '<a rel="attachment" href="file:///etc/passwd">x</a></body></html>'
    )
    # when
    data = render(html)
    # then: the letter is made, with nothing of the file in it
    assert "Dear tenant" in pdf_text(data)
    assert _attachments(data) == {}
    assert SECRET.encode() not in data


@pytest.mark.parametrize("render", [render_pdf, letter_pdf], ids=["render_pdf", "letter_pdf"])
def test_a_template_cannot_make_the_server_request_an_address(render, listener):
    url, asked = listener
    html = (
        f'<html><head><link rel="stylesheet" href="{url}/style.css">'
        f'<style>@import url("{url}/import.css"); p {{ background: url("{url}/bg.png") }}'
        f'</style></head><body><p>Dear tenant</p><img src="{url}/pixel.png">'
        f'<link rel="attachment" href="{url}/file"></body></html>'
    )
    data = render(html)
    assert "Dear tenant" in pdf_text(data)
    assert asked == []
    assert _attachments(data) == {}


def test_data_uris_still_load():
    # a 1x1 PNG as a data: URI: allowed, and it makes an image in the PDF
    pixel = (
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAA"
        "AABJRU5ErkJggg=="
    )
    data = render_pdf(f'<p>logo</p><img src="data:image/png;base64,{pixel}">')
    page = PdfReader(io.BytesIO(data)).pages[0]
    assert len(page.images) == 1


def test_only_files_the_package_ships_are_allowed(secret_file, tmp_path):
    assert is_shipped(str(CSS_FILE))
    assert not is_shipped(str(secret_file))
    assert not is_shipped("/proc/self/environ")
    assert not is_shipped("/etc/passwd")
    # a Python file of the package is not a shipped resource, nor a link pointing into the package
    assert not is_shipped(str(CSS_FILE.parent.parent.parent / "models.py"))
    link = tmp_path / "letter.css"
    link.symlink_to(secret_file)
    assert not is_shipped(str(link))


def test_every_pdf_is_made_through_the_guarded_fetcher():
    # given: every module of the package that makes a PDF with WeasyPrint
    package = CSS_FILE.parents[3]
    makers = sorted(
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if "tests" not in path.parts and "weasyprint import" in path.read_text(encoding="utf-8")
    )
    # then: only the two renderers tested above, each passing the fetcher to what it builds
    assert makers == ["core/pdf.py", "correspondence/pdfs.py"]
    for name in makers:
        source = (package / name).read_text(encoding="utf-8")
        built = source.count("HTML(string=") + source.count("CSS(string=")
        assert built == source.count("url_fetcher=shipped_only()"), name
