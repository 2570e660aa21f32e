/* The workspace's own script, served as a file: the Content-Security-Policy runs no inline script
   and no handler attribute (config/settings.py). htmx does the rest. */

// The language menu in the header changes the language as soon as one is chosen.
document.addEventListener("change", function (event) {
  var select = event.target.closest("form.lang select");
  if (select) {
    select.form.submit();
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
