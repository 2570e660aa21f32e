/* The workspace's own script, served as a file: the Content-Security-Policy runs no inline script
   and no handler attribute (config/settings.py). htmx does the rest. */

// The language menu in the header changes the language as soon as one is chosen.
document.addEventListener("change", function (event) {
  var select = event.target.closest("form.lang select");
  if (select) {
    select.form.submit();
  }
});

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
