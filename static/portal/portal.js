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

// After an htmx swap, keyboard and screen reader users learn what changed (WCAG 2.4.3, 3.3.1, 4.1.3):
// - a form that came back with errors: focus goes to its first invalid field, read together with
//   its error (aria-describedby), which is also announced (role=alert);
// - focus was on something the swap removed: it goes to the same control in the new content, else
//   to the new content's first field, heading or control, else to the heading of the section the
//   removed content was in;
// - what the new content says about the change (its data-announce, or the text of its role=status
//   element) goes to the page's live region, #announcer in base.html. That region stays in the page:
//   a live region swapped in with its text is not reliably read.
(() => {
  const FOCUSABLE = "a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]";
  const FIELDS = "input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled])";
  // Per request (its XMLHttpRequest): what had the focus, where the answer goes, what it brought.
  // Answers can overlap (a fast second request), so nothing is shared between two of them.
  const swaps = new WeakMap();
  let swapping = null; // the swap under way: out-of-band swaps happen within it, synchronously

  function controlKey(elt) {
    if (!elt || elt === document.body || elt === document.documentElement) return null;
    if (elt.id) return `#${elt.id}`;
    const action = elt.form ? elt.form.getAttribute("action") : "";
    const value = elt.tagName === "BUTTON" ? elt.value : ""; // a field's value is what the person typed
    return [elt.tagName, action, elt.getAttribute("href"), elt.name, value, elt.textContent.trim()].join("|");
  }

  function findIn(elts, selector, test = () => true) {
    for (const elt of elts) {
      const found = [...(elt.matches(selector) ? [elt] : []), ...elt.querySelectorAll(selector)].find(test);
      if (found) return found;
    }
    return null;
  }

  function focusOn(elt) {
    if (!elt.matches(FOCUSABLE)) elt.setAttribute("tabindex", "-1");
    elt.focus();
  }

  let announced = 0; // how many messages so far: a message that comes late gives way to a newer one

  function announce(text) {
    const region = document.getElementById("announcer");
    if (!region || !text) return;
    const turn = ++announced;
    region.textContent = "";
    // A new text node after a pause: the same message twice in a row is read twice.
    window.setTimeout(() => { if (turn === announced) region.textContent = text; }, 50);
  }

  const text = (elt) => elt.textContent.trim().replace(/\s+/g, " ");

  // What to say about new content: its data-announce; else its status message; else the whole text
  // of a region the template marks as live (aria-live), when it is short enough to be heard.
  function message(main, all) {
    const said = findIn(all, "[data-announce]");
    if (said) return said.dataset.announce;
    const status = findIn(all, "[role=status]", (elt) => text(elt) !== "");
    if (status) return text(status);
    const live = main.find((elt) => elt.matches("[aria-live]") && text(elt).length <= 300);
    return live ? text(live) : "";
  }

  function afterSwap(state) {
    const all = state.settled.filter((elt) => elt.isConnected && elt.matches);
    if (!all.length) return; // a later answer replaced this one's content already
    const main = all.filter((elt) => !state.oob.has(elt));
    const invalid = findIn(main, "[aria-invalid='true']");
    if (invalid) {
      invalid.focus();
      return;
    }
    announce(message(main, all));
    const active = document.activeElement;
    if (active && active !== document.body && active.isConnected) return; // focus is where the person left it
    const same = (elt) => controlKey(elt) === state.key;
    const next = (state.key && (findIn(main, FOCUSABLE, same) || findIn([document.body], FOCUSABLE, same)))
      || findIn(main, FIELDS) || findIn(main, "h1, h2, h3, h4") || findIn(main, FOCUSABLE)
      || (state.region && state.region.isConnected && (state.region.querySelector("h1, h2, h3, h4") || state.region));
    if (next) focusOn(next);
  }

  // hx-disabled-elt may take the focus away while the request runs: remember it from the start.
  document.addEventListener("htmx:beforeRequest", (event) => {
    swaps.set(event.detail.xhr, { key: controlKey(document.activeElement), oob: new Set(), settled: [] });
  });
  document.addEventListener("htmx:beforeSwap", (event) => {
    swapping = swaps.get(event.detail.xhr) || null;
    if (!swapping) return;
    const target = event.detail.target;
    const outer = target && target.parentElement;
    swapping.key = controlKey(document.activeElement) || swapping.key;
    swapping.target = target;
    swapping.region = outer && outer.closest("section, article, main");
  });
  // Out-of-band swaps come first; their events go to every element settled so far except the target.
  document.addEventListener("htmx:oobAfterSwap", (event) => {
    if (swapping && event.target !== swapping.target) swapping.oob.add(event.target);
  });
  // Settling comes a moment later, once per new element: handle the request's elements together.
  // (A history restore, Back, has no request: like a page load, it moves nothing.)
  document.addEventListener("htmx:afterSettle", (event) => {
    const state = event.detail.xhr && swaps.get(event.detail.xhr);
    if (!state) return;
    if (!state.settled.length) window.setTimeout(() => afterSwap(state), 0);
    state.settled.push(event.target);
  });

  // A page that comes back with form errors puts the focus on the first invalid field, and the
  // messages of the previous action (Django's messages) are read out: a status message present
  // when the page loads is not.
  document.addEventListener("DOMContentLoaded", () => {
    const invalid = document.querySelector("main [aria-invalid='true']");
    if (invalid) invalid.focus();
    const messages = document.getElementById("messages");
    const turn = announced;
    if (messages && text(messages)) window.setTimeout(() => { if (turn === announced) announce(text(messages)); }, 500);
  });
})();

// Forms marked data-reset-on-success are emptied once htmx has sent them successfully.
document.addEventListener("htmx:afterRequest", (event) => {
  const form = event.detail.elt.closest && event.detail.elt.closest("form[data-reset-on-success]");
  if (form && event.detail.successful && !event.detail.xhr.getResponseHeader("HX-Retarget")) form.reset();
});

/* look and feel (issue 9) */
// A licence form asks before it lowers the number of licences (cancelled licences stop at once);
// adding licences needs no question. htmx asks through this event; the request waits for the answer.
document.addEventListener("htmx:confirm", (event) => {
  const form = event.detail.elt;
  if (!(form instanceof HTMLFormElement) || !form.dataset.confirmFewer) return;
  if (!(Number(form.elements.quantity.value) < Number(form.dataset.confirmFewer))) return;
  event.preventDefault();
  if (window.confirm(form.dataset.confirmFewerText)) event.detail.issueRequest(true);
});
