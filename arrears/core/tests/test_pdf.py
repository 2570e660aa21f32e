from arrears.core.pdf import pdf_page_count, pdf_text, render_pdf


def test_rendered_pdf_reads_back_as_its_text() -> None:
    html = "<html><body><h1>Rent demand</h1><p>Amount due: $1,234.56</p></body></html>"
    data = render_pdf(html)
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    assert "Rent demand" in text
    assert "$1,234.56" in text
    assert pdf_page_count(data) == 1


def test_a_page_break_makes_a_second_page() -> None:
    html = '<p>one</p><p style="page-break-before: always">two</p>'
    data = render_pdf(html)
    assert pdf_page_count(data) == 2
    assert pdf_text(data).split("\f")[1].strip() == "two"
