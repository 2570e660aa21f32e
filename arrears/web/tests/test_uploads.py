"""Documents added to an account's history: a signed lease as a PDF, a photo, a tenant's email;
read by their bytes, archived once by SHA-256, on the timeline, readable by whoever may see the
account. And what an attacker would try: a PDF that runs JavaScript (plain or with its name
escaped), an HTML page named lease.pdf, a file named ../../etc/passwd, a file too large.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject

from arrears.access import acts
from arrears.access.acting import By
from arrears.access.tests.people import signed_in
from arrears.cli import main
from arrears.core.errors import ValidationError
from arrears.correspondence.models import Document
from arrears.correspondence.uploads import plain_filename
from arrears.ledger.models import TimelineEvent

pytestmark = pytest.mark.django_db


def lease_pdf(text: str = "Lease of 3B, signed by Tina Ortiz") -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    writer.add_metadata({"/Title": text})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def scripted_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
        {
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert('owned');"),
        }
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


EMAIL = (
    b"From: Tina Ortiz <tina@example.org>\r\nTo: rent@elmcourt.example\r\n"
    b"Date: Thu, 26 Mar 2026 09:12:00 -0400\r\nSubject: My rent\r\n\r\n"
    b"I will pay on Friday.\r\n"
)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40


def alice(people: Any) -> By:
    return By(people["alice"], "cli")


def test_a_signed_lease_is_archived_once_and_on_the_timeline(people: Any) -> None:
    # given the signed lease, scanned as a PDF
    data = lease_pdf()
    # when Alice adds it to Tina's account, twice
    first = acts.document_add(
        by=alice(people), account_id="A-TINA", data=data, filename="lease.pdf", title="Signed lease"
    )
    again = acts.document_add(
        by=alice(people), account_id="A-TINA", data=data, filename="copy.pdf", title="Lease again"
    )
    # then it is archived once, by its SHA-256, and named once on the timeline
    assert Document.objects.filter(kind="upload").count() == 1
    assert again.document.pk == first.document.pk
    assert again.event is None
    (event,) = TimelineEvent.objects.filter(kind="document.added")
    assert event.detail["document"] == first.document.name
    assert event.detail["sha256"] == first.document.sha256
    assert event.detail["title"] == "Signed lease"
    # and whoever may see the account reads it back as stored: a PDF pypdf reads
    url = f"/accounts/A-TINA/documents/?name={first.document.name}"
    for who in ("alice", "bob"):
        response = signed_in(people[who]).get(url)
        assert response.status_code == 200
        assert PdfReader(io.BytesIO(response.content)).metadata.title.startswith("Lease of 3B")
    # and no one else
    assert signed_in(people["mallory"]).get(url).status_code == 404
    assert signed_in(people["alice"]).get(url.replace("A-TINA", "A-OSCAR")).status_code == 404


def test_an_email_and_an_image_are_known_by_their_bytes_whatever_their_names(people: Any) -> None:
    email = acts.document_add(
        by=alice(people), account_id="A-TINA", data=EMAIL, filename="x.pdf", title="Tina's email"
    )
    photo = acts.document_add(
        by=alice(people), account_id="A-TINA", data=PNG, filename="notice.eml", title="Door photo"
    )
    assert (email.document.content_type, email.document.name.endswith(".eml")) == (
        "message/rfc822",
        True,
    )
    assert photo.document.content_type == "image/png"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (scripted_pdf(), "document_pdf_active"),
        (
            # the same, its name escaped (/J#61vaScript is /JavaScript) in a hand-made PDF
            b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R /OpenAction 3 0 R >> endobj\n"
            b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
            b"3 0 obj << /S /J#61vaScript /J#53 (app.alert(1)) >> endobj\ntrailer << /Root 1 0 R >>"
            b"\n%%EOF",
            "document_pdf_active",
        ),
        (b"<!doctype html><html><script>alert(1)</script></html>", "document_type_refused"),
        (b"From: x\r\n\r\n<html><script>alert(1)</script>", "document_type_refused"),
        (b"%PDF-1.7\nthis is no PDF at all", "document_pdf_unreadable"),
        (b"MZ\x90\x00 an executable", "document_type_refused"),
        (b"", "document_size"),
    ],
    ids=["pdf-js", "pdf-js-escaped", "html-as-pdf", "html-as-email", "broken-pdf", "exe", "empty"],
)
def test_a_hostile_or_unknown_file_is_refused_and_nothing_is_archived(
    people: Any, data: bytes, code: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        acts.document_add(
            by=alice(people), account_id="A-TINA", data=data, filename="lease.pdf", title="Lease"
        )
    assert refused.value.code == code
    assert not Document.objects.exists()
    assert not TimelineEvent.objects.filter(kind="document.added").exists()


def test_a_path_in_the_filename_is_only_a_label_and_a_file_too_large_is_refused(
    people: Any, settings: Any, archive_per_test: Any
) -> None:
    assert plain_filename("../../etc/passwd") == "passwd"
    assert plain_filename("..\\..\\boot.ini") == "boot.ini"
    added = acts.document_add(
        by=alice(people),
        account_id="A-TINA",
        data=lease_pdf(),
        filename="../../etc/passwd",
        title="Proof of service",
    )
    assert added.filename == "passwd"
    assert added.document.name.startswith("uploads/A-TINA/")
    assert (archive_per_test / added.document.name).resolve().is_relative_to(archive_per_test)
    settings.ARREARS_UPLOAD_MAX_BYTES = 100
    with pytest.raises(ValidationError) as refused:
        acts.document_add(
            by=alice(people), account_id="A-TINA", data=EMAIL, filename="m.eml", title="Mail"
        )
    assert refused.value.code == "document_size"


def test_the_page_the_api_and_the_command_line_add_a_document(
    people: Any, tokens: Any, tmp_path: Any
) -> None:
    # the page: a multipart form, back to the account, the timeline naming it
    client = signed_in(people["alice"])
    upload = SimpleUploadedFile("lease.pdf", lease_pdf("page"), content_type="text/html")
    response = client.post(
        "/accounts/A-TINA/documents/add/", {"title": "Signed lease", "file": upload}
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Document added" in page
    assert "document added: Signed lease" in page
    # a refusal shows beside the form
    bad = SimpleUploadedFile("lease.pdf", b"<html></html>", content_type="application/pdf")
    refused = client.post("/accounts/A-TINA/documents/add/", {"title": "X", "file": bad})
    assert refused.status_code == 422
    assert "is not a PDF, a PNG or JPEG image, or an email" in refused.content.decode()
    # the API: multipart, 201 then 200 for the same file
    api = Client(HTTP_AUTHORIZATION=f"Bearer {tokens['alice']}")
    data = lease_pdf("api")
    for status in (201, 200):
        answer = api.post(
            "/api/accounts/A-TINA/documents",
            {"title": "Proof of service", "file": SimpleUploadedFile("p.pdf", data)},
        )
        assert answer.status_code == status, answer.content
    assert json.loads(answer.content)["added"] is False
    # a manager of the building may read, not add
    bob = Client(HTTP_AUTHORIZATION=f"Bearer {tokens['bob']}")
    assert (
        bob.post(
            "/api/accounts/A-TINA/documents",
            {"title": "x", "file": SimpleUploadedFile("p.pdf", lease_pdf("bob"))},
        ).status_code
        == 403
    )
    # the command line
    path = tmp_path / "tina-letter.eml"
    path.write_bytes(EMAIL)
    assert main(["--as", "alice", "document", "add", "A-TINA", str(path), "--title", "Letter"]) == 0
    assert TimelineEvent.objects.filter(kind="document.added").count() == 3
