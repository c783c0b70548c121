// Small progressive enhancements; every page works without this file.
document.documentElement.classList.add("js");

// Selects marked data-autosubmit submit their form on change (the button stays for no-JS use).
document.addEventListener("change", (event) => {
  const select = event.target.closest("select[data-autosubmit]");
  if (select) select.form.requestSubmit();
});

// Forms marked data-confirm ask before a destructive action. Forms that htmx sends carry
// hx-confirm instead (htmx does not honour a cancelled submit event), so they are skipped here.
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !form.hasAttribute("hx-confirm") && !window.confirm(form.dataset.confirm)) event.preventDefault();
}, true);

// After htmx swaps content in, move focus to the first error, if any, so it is announced. An
// outerHTML swap replaces the target, so look in the document when the old target is gone.
document.addEventListener("htmx:afterSettle", (event) => {
  const scope = event.detail.target && event.detail.target.isConnected ? event.detail.target : document;
  const invalid = scope.querySelector("[aria-invalid='true']");
  if (invalid) invalid.focus();
});

// Forms marked data-reset-on-success are emptied once htmx has sent them successfully.
document.addEventListener("htmx:afterRequest", (event) => {
  const form = event.detail.elt.closest && event.detail.elt.closest("form[data-reset-on-success]");
  if (form && event.detail.successful && !event.detail.xhr.getResponseHeader("HX-Retarget")) form.reset();
});
