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

/* record: proof of mailing on the letters page. Each printed letter's article number is
   checked as it is typed or scanned (a barcode scanner types the digits, then Enter): the USPS
   Mod-10 check digit of Publication 199, as arrears/correspondence/certified.py computes it;
   the error shows beside the field and the form is not sent until the number is right. */
function arrearsCheckDigit(payload) {
  var total = 0;
  for (var i = payload.length - 1, position = 1; i >= 0; i--, position++) {
    total += parseInt(payload.charAt(i), 10) * (position % 2 ? 3 : 1);
  }
  return (10 - (total % 10)) % 10;
}

function arrearsArticleProblem(input) {
  var number = input.value.replace(/[\s-]/g, "");
  var say = input.form.querySelector(".article-error");
  if (!number) {
    return "";
  }
  if (!/^[0-9]+$/.test(number)) {
    return say.dataset.digits;
  }
  if (number.length !== 20 && number.length !== 22) {
    return say.dataset.length + " (" + number.length + ")";
  }
  var expected = arrearsCheckDigit(number.slice(0, -1));
  if (parseInt(number.slice(-1), 10) !== expected) {
    return say.dataset.wrong + " " + expected;
  }
  return "";
}

function arrearsArticleShow(input, complete) {
  var say = input.form.querySelector(".article-error");
  var number = input.value.replace(/[\s-]/g, "");
  // While typing, only a number of full length is judged (or one that cannot become one).
  var problem = arrearsArticleProblem(input);
  if (!complete && problem && number.length < 20 && /^[0-9]*$/.test(number)) {
    problem = "";
  }
  say.textContent = problem;
  input.setAttribute("aria-invalid", problem ? "true" : "false");
  return problem;
}

document.addEventListener("input", function (event) {
  if (event.target.matches("form.article-form input.article-number")) {
    arrearsArticleShow(event.target, false);
  }
});

document.addEventListener("submit", function (event) {
  var input = event.target.querySelector && event.target.querySelector("input.article-number");
  if (input && arrearsArticleShow(input, true)) {
    event.preventDefault();
    input.focus();
  }
});

// search: the header box's type-ahead. Down arrow from the box goes to the suggestions, up and
// down move among them, Escape closes them and returns to the box (htmx fetches them).
document.addEventListener("keydown", function (event) {
  var form = event.target.closest("form.quick-search");
  if (!form) {
    return;
  }
  var box = form.querySelector("input[name=q]");
  var links = Array.prototype.slice.call(form.querySelectorAll(".suggestions a"));
  var at = links.indexOf(event.target);
  if (event.key === "Escape") {
    form.querySelector(".suggestions").innerHTML = "";
    box.focus();
  } else if (event.key === "ArrowDown" && links.length) {
    event.preventDefault();
    links[Math.min(at + 1, links.length - 1)].focus();
  } else if (event.key === "ArrowUp" && at >= 0) {
    event.preventDefault();
    (at === 0 ? box : links[at - 1]).focus();
  }
});
