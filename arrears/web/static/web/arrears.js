/* The workspace's own script, served as a file: the Content-Security-Policy runs no inline script
   and no handler attribute (config/settings.py). htmx does the rest. */

// The language menu in the header changes the language as soon as one is chosen.
document.addEventListener("change", function (event) {
  var select = event.target.closest("form.lang select");
  if (select) {
    select.form.submit();
  }
});
