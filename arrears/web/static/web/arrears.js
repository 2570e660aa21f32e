/* The workspace's own script, served as a file: the Content-Security-Policy runs no inline script
   and no handler attribute (config/settings.py). htmx does the rest.

   The language menu in the header changes the language only when its button is pressed (WCAG
   3.2.2, on input: choosing an option changes no context by itself).

   A wide table scrolls sideways inside a box of its own, never the page (a tablet's 800 px): each
   table of the page, and of every part htmx swaps in, is put in a `div.table-scroll`. A box that
   does scroll can be reached by the keyboard and is named for screen readers by the table's
   caption or the heading before it (WCAG 2.1.1; axe's scrollable-region-focusable). */
(function () {
  "use strict";

  function nameOf(table) {
    var caption = table.querySelector("caption");
    if (caption) {
      return caption.textContent.trim();
    }
    var before = table.parentElement.previousElementSibling;
    while (before && !/^H[1-6]$/.test(before.tagName)) {
      before = before.previousElementSibling;
    }
    return before ? before.textContent.trim() : "";
  }

  function markScrolling() {
    document.querySelectorAll("div.table-scroll").forEach(function (box) {
      var name = nameOf(box.firstElementChild);
      if (box.scrollWidth > box.clientWidth + 1 && name) {
        box.tabIndex = 0;
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", name);
      } else {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
      }
    });
  }

  function wrapTables() {
    document.querySelectorAll("main table").forEach(function (table) {
      if (table.parentElement.classList.contains("table-scroll")) {
        return;
      }
      var box = document.createElement("div");
      box.className = "table-scroll";
      table.parentNode.insertBefore(box, table);
      box.appendChild(table);
    });
    markScrolling();
  }

  document.addEventListener("DOMContentLoaded", wrapTables);
  document.addEventListener("htmx:load", wrapTables);
  window.addEventListener("resize", markScrolling);
})();
