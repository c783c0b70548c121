"""Responsive from 360 px phones up (issue 9): no page of the portal scrolls sideways on a phone.

Every customer page of test_screenshots.py, with the demo data (long DNS values, long names), the
login page and the account pages: the document is never wider than the window. Wide tables scroll
inside their own wrapper (Pico's .overflow-auto), which is allowed.
"""

import pytest

from tests.browser.conftest import new_page
from tests.browser.test_screenshots import OWNER, PHONE, customer_pages, demo_data, sign_in  # noqa: F401

pytestmark = pytest.mark.browser

# What sticks out past the right edge, outside a scrolling wrapper, for the failure message.
OVERFLOW = """() => {
  const width = window.innerWidth;
  if (document.documentElement.scrollWidth <= width + 1) return null;
  const culprits = [...document.querySelectorAll("body *")].filter((element) => {
    if (element.getBoundingClientRect().right <= width + 1) return false;
    // A wrapper does not clip an absolutely positioned box unless it is positioned itself.
    if (getComputedStyle(element).position === "absolute") return true;
    for (let parent = element.parentElement; parent; parent = parent.parentElement) {
      const overflow = getComputedStyle(parent).overflowX;
      if (overflow === "auto" || overflow === "scroll" || overflow === "hidden") return false;
    }
    return true;
  });
  const describe = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
    + (e.classList.length ? "." + [...e.classList].join(".") : "");
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: width,
          culprits: [...new Set(culprits.slice(-6).map(describe))]};
}"""


def overflow(page) -> dict | None:
    return page.evaluate(OVERFLOW)


@pytest.fixture
def phone(browser, live_server):
    page = new_page(browser, live_server)
    page.set_viewport_size(PHONE)
    yield page
    page.context.close()


def test_no_page_scrolls_sideways_on_a_360_px_phone(demo_data, phone):  # noqa: F811
    problems = []
    phone.goto("/accounts/login/")
    if found := overflow(phone):
        problems.append(f"login: {found}")
    sign_in(phone, OWNER)
    for name, url in customer_pages():
        response = phone.goto(url)
        assert response.ok, f"{name}: {url} answered {response.status}"
        if found := overflow(phone):
            problems.append(f"{name} ({url}): {found}")
    assert not problems, "Pages wider than a 360 px phone:\n" + "\n".join(problems)
