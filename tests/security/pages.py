"""Helpers of the security suite: the customer URLs with an object of Acme, the forms a page shows."""

import inspect
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

from django.db import transaction
from django.urls import Resolver404, resolve, reverse

from tests.portal.test_scoping import OBJECT_URLS, our_url_patterns


def customer_urls(objects: dict) -> dict[str, str]:
    """Every customer URL name -> its path, with Acme's objects for the parameters."""
    urls = {}
    for pattern in our_url_patterns():
        kwargs = OBJECT_URLS[pattern.name](objects) if pattern.name in OBJECT_URLS else {}
        urls[pattern.name] = reverse(pattern.name, kwargs=kwargs)
    return urls


def post_url_names() -> set[str]:
    """The customer URL names whose view accepts POST: decorated with require_POST, or reading
    request.method or request.POST (the views are plain functions, so their source tells)."""
    names = set()
    for pattern in our_url_patterns():
        source = inspect.getsource(pattern.callback)  # unwraps the decorators
        if any(mark in source for mark in ("@require_POST", "request.method", "request.POST")):
            names.add(pattern.name)
    return names


def url_name(url: str) -> str | None:
    try:
        return resolve(urlsplit(url).path).url_name
    except Resolver404:
        return None


@contextmanager
def rolled_back():
    """Whatever a request writes is undone: every request of a matrix starts from the same data."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


@dataclass
class Form:
    action: str
    # name -> the values the page offers (the options of a select, the value of an input).
    fields: dict[str, list[str]] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    htmx: bool = False  # the page sends it with htmx too (the view may answer a fragment)
    method: str = "post"

    def initial(self) -> dict[str, str]:
        return {name: values[0] if values else "" for name, values in self.fields.items() if self.kinds[name] != "file"}


class FormParser(HTMLParser):
    def __init__(self, page_url: str):
        super().__init__()
        self.page_url = page_url
        self.forms: list[Form] = []
        self.links: list[str] = []
        self.current: Form | None = None
        self.select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and (attrs.get("href") or "").startswith("/"):
            self.links.append(attrs["href"].split("#")[0])
        if tag == "option":
            if self.current is not None and self.select and attrs.get("value") is not None:
                self.current.fields[self.select].append(attrs["value"])
        elif tag == "form":
            method = (attrs.get("method") or ("post" if "hx-post" in attrs else "get")).lower()
            action = attrs.get("action") or attrs.get("hx-post") or self.page_url
            htmx = f"hx-{method}" in attrs
            self.current = (
                Form(action=action.split("#")[0], htmx=htmx, method=method) if method in ("get", "post") else None
            )
        elif self.current is None or not attrs.get("name"):
            return
        elif tag == "input":
            kind = (attrs.get("type") or "text").lower()
            if kind in ("submit", "button", "reset", "image"):
                if kind == "submit":
                    self._add(attrs["name"], attrs.get("value") or "", "submit")
                return
            if kind in ("checkbox", "radio") and attrs["name"] in self.current.fields:
                self.current.fields[attrs["name"]].append(attrs.get("value") or "on")
                return
            value = attrs.get("value")
            self._add(attrs["name"], value if value is not None else ("on" if kind == "checkbox" else ""), kind)
        elif tag == "textarea":
            self._add(attrs["name"], "", "textarea")
        elif tag == "select":
            self.select = attrs["name"]
            self.current.fields.setdefault(self.select, [])
            self.current.kinds[self.select] = "select"
        elif tag == "button" and (attrs.get("type") or "submit") == "submit":
            self._add(attrs["name"], attrs.get("value") or "", "submit")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "form" and self.current is not None:
            self.forms.append(self.current)
            self.current = None
        elif tag == "select":
            self.select = None

    def _add(self, name, value, kind):
        self.current.fields.setdefault(name, []).append(value)
        self.current.kinds.setdefault(name, kind)


def _parsed(html: str, page_url: str) -> FormParser:
    parser = FormParser(page_url)
    parser.feed(html)
    for form in parser.forms:
        form.fields.pop("csrfmiddlewaretoken", None)
        form.kinds.pop("csrfmiddlewaretoken", None)
    parser.forms = [f for f in parser.forms if f.action.startswith("/") and not f.action.startswith("/accounts/")]
    return parser


def post_forms(html: str, page_url: str) -> list[Form]:
    """The POST forms of a page (the CSRF token field left out)."""
    return [form for form in _parsed(html, page_url).forms if form.method == "post"]


def discover_forms(client, start: list[str], *, pages_per_name: int = 4) -> dict[tuple, Form]:
    """The forms (POST, and GET filters) of the ``start`` pages and of the customer pages their links lead
    to (at most ``pages_per_name`` pages per URL name beyond the start pages), one per method, action and
    set of fields. Every GET is rolled back."""
    customer_names = {pattern.name for pattern in our_url_patterns()}
    queue, seen, crawled = list(dict.fromkeys(start)), set(start), {}
    forms = {}
    while queue:
        url = queue.pop(0)
        with rolled_back():
            response = client.get(url)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        parser = _parsed(response.content.decode(), url)
        for form in parser.forms:
            forms.setdefault((form.method, form.action, tuple(sorted(form.fields))), form)
        for link in parser.links:
            name = url_name(link)
            if link in seen or name not in customer_names or crawled.get(name, 0) >= pages_per_name:
                continue
            seen.add(link)
            crawled[name] = crawled.get(name, 0) + 1
            queue.append(link)
    return forms
