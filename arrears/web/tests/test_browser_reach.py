"""Every page for every reader (issue 15, items 8 and 9): in Spanish without English, at a
tablet's 800 px and a laptop's 1400 px without anything cut off, and without a serious
accessibility fault that axe-core finds.

Erin, the admin (who may open every page), walks the workspace in Chromium: Today, the portfolio
with its chart, two accounts, search, the month-end periods, and the pages test_csp.py walks
(letters, mail triage, every admin page), in English and then in Spanish, chosen in the header's
menu and changed when its button is pressed. On each page:
- no element's right edge is past the window's unless a scrolling box inside the page (a wide
  table scrolls in itself) holds it; the screenshots are test-artifacts/screens/<page>-800.png
  and -1400.png (Spanish: <page>-es-800.png);
- axe-core (the copy the PyPI package `axe-playwright-python` ships) finds no serious or critical
  violation;
- in Spanish, the text a reader sees or hears (text, placeholders, labels for screen readers)
  has no word of the English interface (web/tests/english.py says how a word is judged English
  and how the book's own data is told apart). The records shown as written are left out: the
  timeline's entries, the audit log's details, a policy's source and a letter's text.
"""

from __future__ import annotations

from datetime import date

import pytest

from arrears.access.tests.people import TODAY
from arrears.disputes.services import dispute_open
from arrears.dunning.commitments import plan_create
from arrears.dunning.services import hold_place
from arrears.web.chart import PALETTE
from arrears.web.tests.conftest import triage_message
from arrears.web.tests.english import data_words, english_on
from arrears.web.tests.test_browser import (  # noqa: F401 - fixtures
    CHROMIUM,
    browser,
    day_of_work,
    page,
    shot,
    sign_in,
)
from arrears.web.tests.test_csp import PAGES

WIDTHS = (1400, 800)
# The pages walked, by the name of their screenshot.
MAIN = {
    "today": "/today/?as_of=2026-03-26",
    "portfolio": "/?as_of=2026-03-26",
    "account": "/accounts/A-TINA/",
    "account-referred": "/accounts/A-OSCAR/",
    "search": "/search/?q=ortiz",
    "periods": "/periods/",
}
# What is shown as it was written: an account's record, the audit's details, sources, letters,
# what is typed in a form.
RECORDS = "table.timeline td.why, table.audit td.detail, pre.source, pre.letter-text, textarea"

# Elements past the window's right edge, not inside a box that scrolls sideways within the page.
CUT_OFF = """() => {
  const edge = document.documentElement.clientWidth + 1;
  const scrolls = (e) => ["auto", "scroll"].includes(getComputedStyle(e).overflowX)
    && e.getBoundingClientRect().right <= edge;
  const out = [];
  for (const e of document.body.querySelectorAll("*")) {
    const box = e.getBoundingClientRect();
    if (box.width === 0 || box.right <= edge) continue;
    // Not drawn: the inside of a closed <details> (the account's action forms) keeps a box
    // but is skipped content until it opens.
    if (!e.checkVisibility()) continue;
    let up = e.parentElement, held = false;
    while (up && up !== document.body && !held) { held = scrolls(up); up = up.parentElement; }
    if (!held) out.push(`${e.tagName.toLowerCase()}.${e.className} right ${Math.round(box.right)}`);
  }
  return out.slice(0, 10);
}"""

# The words a reader meets: text (not scripts), placeholders, labels read by screen readers.
READ = """(records) => {
  const out = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const e = n.parentElement;
    if (e && !e.closest("script, style, template") && !e.closest(records)) out.push(n.textContent);
  }
  for (const e of document.querySelectorAll("[placeholder], [aria-label], [title]")) {
    if (e.closest(records)) continue;
    out.push(e.getAttribute("placeholder") || "", e.getAttribute("aria-label") || "",
             e.getAttribute("title") || "");
  }
  out.push(document.title);
  return out.join(" \\n ");
}"""


def _more_to_show() -> None:
    """What else a page may show: a hold and a dispute on Tina's account, a plan on Oscar's, a
    message in triage."""
    hold_place(
        account_id="A-TINA", reason="military", on=TODAY, actor="alice", until=date(2026, 4, 30)
    )
    dispute_open(account_id="A-TINA", reason="the rent was paid", on=TODAY, actor="alice")
    plan_create(
        account_id="A-OSCAR", on=TODAY, actor="alice", start=date(2026, 4, 1), installments=2
    )
    triage_message()


def _contrast(a: str, b: str) -> float:
    def luminance(colour: str) -> float:
        rgb = [int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_charts_colours_stand_out_from_its_white_at_3_to_1():
    # WCAG 1.4.11 (non-text contrast): each bucket's colour against the chart's background
    assert [c for c in PALETTE if _contrast(c, "#ffffff") < 3] == []


def _axe_serious(tab) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(tab)  # injected by the DevTools protocol: the page's CSP is not involved
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def _walk(tab, base: str, pages: dict[str, str], language: str, allowed) -> list[str]:
    faults: list[str] = []
    for name, path in pages.items():
        for width in WIDTHS:
            tab.set_viewport_size({"width": width, "height": 900})
            answer = tab.goto(base + path)
            assert answer is not None, path
            assert answer.status == 200, path
            tab.wait_for_load_state("networkidle")  # the page's htmx parts (the chart, plans)
            assert tab.evaluate("document.documentElement.lang") == language
            faults += [f"{path} at {width}: cut off {e}" for e in tab.evaluate(CUT_OFF)]
            shot(tab, f"{name}-{width}" if language == "en" else f"{name}-{language}-{width}")
            if width == WIDTHS[0]:
                faults += [f"{path} ({language}): axe {v}" for v in _axe_serious(tab)]
                if language == "es":
                    english = sorted(set(english_on(tab.evaluate(READ, RECORDS), allowed)))
                    faults += [f"{path}: English {english}"] if english else []
    return faults


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)"
)
def test_every_page_reads_in_spanish_fits_a_tablet_and_passes_axe(live_server, page, day_of_work):  # noqa: F811
    base = live_server.url
    erin = day_of_work["erin"]
    _more_to_show()
    pages = dict(MAIN)
    for path in PAGES:
        name = path.split("?")[0].strip("/").replace("/", "-").replace("{erin}", "user")
        pages[name + ("-filtered" if "?verb" in path else "")] = path.replace(
            "{erin}", str(erin.pk)
        )
    # given Erin signed in
    sign_in(page, base, "erin")
    # when she walks every page in English
    faults = _walk(page, base, pages, "en", frozenset())
    # and chooses Spanish: the menu alone changes nothing, its button does
    page.goto(f"{base}/today/")
    page.select_option("form.lang select[name=language]", "es")
    assert page.evaluate("document.documentElement.lang") == "en"
    page.click("form.lang button[type=submit]")
    page.wait_for_function("document.documentElement.lang === 'es'")
    # and walks them all again
    faults += _walk(page, base, pages, "es", data_words())
    # then nothing was cut off, axe found nothing serious, and no English was left in Spanish
    assert faults == [], "\n".join(faults)


def test_the_skip_link_comes_first_and_the_focus_shows(live_server, page, day_of_work):  # noqa: F811
    base = live_server.url
    sign_in(page, base, "alice")
    # when Alice presses Tab on a page
    page.goto(f"{base}/today/")
    page.keyboard.press("Tab")
    # then the first thing reached is the skip link, shown, with a focus ring
    focused = page.evaluate(
        """() => { const e = document.activeElement, s = getComputedStyle(e);
        return [e.className, e.getBoundingClientRect().top >= 0, s.outlineStyle,
                s.outlineWidth]; }"""
    )
    assert focused == ["skip-link", True, "solid", "3px"]
    shot(page, "skip-link")
    # and Enter takes her past the header to the page's content
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"
