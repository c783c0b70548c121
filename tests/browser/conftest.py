"""Headless Chromium against pytest-django's live server, with a watch on what the browser reports.

The browser is Debian's Chromium at /usr/bin/chromium, never one Playwright downloads. Without it
the tests fail: CI counts a skipped browser test as a failure, and a failure says what is missing.
The live server runs in this process (a thread), so tests read ``mail.outbox`` and move the clock
with time-machine for the server too.
"""

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"

# Chromium reports CSP violations on the console, and the event below makes sure of it. Init
# scripts are injected by the DevTools protocol, so the page's CSP does not block this one.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline code"}`
    + ` at ${event.sourceFile || document.location.href}:${event.lineNumber}`);
});
"""


class BrowserWatch:
    """Collects console errors, uncaught exceptions and failed responses of one page."""

    def __init__(self, page) -> None:
        self.problems: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.problems.append(f"uncaught JavaScript error: {error}"))
        page.on("response", self._on_response)

    def _on_console(self, message) -> None:
        if message.type == "error":
            self.problems.append(f"console error: {message.text} ({message.location.get('url', '')})")

    def _on_response(self, response) -> None:
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status} for {response.request.method} {response.url}")

    def assert_clean(self, step: str) -> None:
        problems, self.problems = self.problems, []
        assert not problems, f"the browser reported problems during {step}:\n" + "\n".join(problems)


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"No Chromium at {CHROMIUM}: install Debian's package (apt-get install chromium).", pytrace=False)
    from playwright.sync_api import Error, sync_playwright

    # Playwright's sync API keeps an event loop running in the test thread; Django refuses ORM
    # calls from such a thread unless told they are safe, and they are: the loop only drives the
    # browser. Set here, not at import, so that `make test` keeps Django's check.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        try:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        except Error as error:
            pytest.fail(f"Chromium at {CHROMIUM} did not start: {error}", pytrace=False)
        yield chromium
        chromium.close()


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    # Rate limits and used TOTP codes live in the cache, keyed by user id; ids come back after a flush.
    cache.clear()


def new_page(browser, live_server, **context_options):
    """A page in a fresh context (no cookies) whose relative URLs go to the live server."""
    context = browser.new_context(
        base_url=live_server.url, locale="en-US", viewport={"width": 1280, "height": 900}, **context_options
    )
    context.set_default_timeout(10_000)
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    return context.new_page()


@pytest.fixture
def page(browser, live_server):
    page = new_page(browser, live_server)
    yield page
    page.context.close()


@pytest.fixture
def watch(page) -> BrowserWatch:
    return BrowserWatch(page)


@pytest.fixture
def screenshot() -> Callable[..., Path]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=path, full_page=True)
        return path

    return take


@pytest.fixture(autouse=True)
def _annex_1(live_server) -> None:
    """The live server's tests flush the database after each test, data migrations included:
    put annex 1 back the way its migration loads it."""
    from importlib import import_module

    from django.apps import apps

    import_module("support.migrations.0002_annex_1_catalogue").load(apps, None)
