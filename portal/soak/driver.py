"""Simulated customers: each signs in and works (remarks, DNS records, licences, credit packs, accepting
quotes) in its own thread; every accepted write is recorded so that ``checks`` can find it in the database
afterwards. Quotes are accepted several at once, from parallel threads of the same customer, so that the
accepts race for the same credits and some must be refused."""

import contextlib
import random
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.cookies import SimpleCookie

import httpx

PASSWORD = "soak-password-2026"  # noqa: S105 - the logins of a throwaway database
ERROR_PAGE = "Something went wrong on our side"  # templates/500.html
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SERIAL_INPUT = re.compile(r'name="serial" value="(\d+)"')
PACK_INPUT = re.compile(r'name="pack"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="pack"')
MESSAGE = re.compile(r'<p class="message message-(\w+)"[^>]*>([^<]*)</p>')
# What the ticket page says after an accept (support/views.py quote_accept), in English (no Accept-Language).
SPENT = re.compile(r"Quote accepted: (\d+) credits spent")
REFUSED = "your balance cannot pay it yet"
ANSWERED = "already been answered"
SPENDERS = 3  # parallel accepts of one customer, plus one that repeats the first (a double click)


@dataclass
class Stats:
    """Shared by all customers; ``phase`` says which fault (if any) is going on."""

    phase: str = "load"
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: dict = field(default_factory=dict)  # phase -> count
    errors: list = field(default_factory=list)  # (phase, method, path, status or exception, error page shown)
    latencies: list = field(default_factory=list)

    def record(self, phase, method, path, status, seconds, error_page=False):
        with self.lock:
            self.requests[phase] = self.requests.get(phase, 0) + 1
            self.latencies.append(seconds)
            if not isinstance(status, int) or status >= 500:
                self.errors.append((phase, method, path, status, error_page))


@dataclass
class Spends:
    """What each accept of a quote was told: quote pk -> outcomes (one per request sent for it)."""

    outcomes: dict = field(default_factory=dict)
    bursts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, pk: int, outcome: str) -> None:
        with self.lock:
            self.outcomes.setdefault(pk, []).append(outcome)


class Customer:
    def __init__(self, base_url: str, row: dict, password: str, stats: Stats):
        self.row, self.password, self.stats = row, password, stats
        self.client = httpx.Client(base_url=base_url, timeout=60, follow_redirects=False)
        self.cookies: dict[str, str] = {}
        self.remarks: list[str] = []  # bodies accepted
        self.remark_phases: dict[str, str] = {}
        self.records: dict[int, str] = {}  # record pk -> last accepted value
        self.licence_delta = 0
        self.invoices: list[str] = []
        self.unknown: dict[str, int] = {}  # kind -> writes whose outcome is unknown (5xx, connection lost)
        self.quantity = 5
        self.base_url = base_url
        self.untried = [(pk, credits) for pk, credits in row.get("quotes", [])]
        self.spends = Spends()

    def request(
        self, method: str, path: str, data: dict | None = None, *, cookies: dict | None = None, client=None
    ) -> httpx.Response | None:
        """One request with this customer's cookies (or ``cookies``, which then keeps what is set)."""
        cookies = self.cookies if cookies is None else cookies
        phase = self.stats.phase
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
        if method == "POST":
            headers["X-CSRFToken"] = cookies.get("csrftoken", "")
        start = time.monotonic()
        try:
            response = (client or self.client).request(method, path, data=data, headers=headers)
        except httpx.HTTPError as error:
            self.stats.record(phase, method, path, type(error).__name__, time.monotonic() - start)
            return None
        # Cookies kept by hand: the portal sets them Secure (production settings) and we speak plain HTTP.
        for header in response.headers.get_list("set-cookie"):
            for name, morsel in SimpleCookie(header).items():
                if morsel.value:
                    cookies[name] = morsel.value
                else:  # deleted (the messages cookie, once shown)
                    cookies.pop(name, None)
        error_page = response.status_code >= 500 and ERROR_PAGE in response.text
        if self.stats.phase != phase:  # a fault that began while this request ran is this request's fault
            phase = self.stats.phase
        self.stats.record(phase, method, path, response.status_code, time.monotonic() - start, error_page)
        return response

    def write(self, kind: str, path: str, data: dict, **options) -> httpx.Response | None:
        """The response of an answered write; None when its outcome is unknown or it was sent to sign in."""
        response = self.request("POST", path, data, **options)
        if response is None or response.status_code >= 500:
            with self.stats.lock:
                self.unknown[kind] = self.unknown.get(kind, 0) + 1
            return None
        if response.status_code == 302 and response.headers["location"].startswith("/accounts/"):
            self.stats.record(self.stats.phase, "POST", path, "sent to sign in", 0)
            return None
        return response

    def sign_in(self) -> bool:
        page = self.request("GET", "/accounts/login/")
        if page is None or page.status_code != 200:
            return False
        token = CSRF_INPUT.search(page.text).group(1)
        data = {"login": self.row["email"], "password": self.password, "csrfmiddlewaretoken": token}
        response = self.request("POST", "/accounts/login/", data)
        return response is not None and response.status_code == 302

    def remark(self) -> None:
        number = self.row["ticket"]
        self.request("GET", f"/support/{number}/")
        body = f"Soak remark {uuid.uuid4().hex[:12]}"
        response = self.write("remark", f"/support/{number}/remarks/", {"body": body})
        if response is not None and response.status_code == 302:
            self.remarks.append(body)
            self.remark_phases[body] = self.stats.phase

    def dns(self) -> None:
        zone = f"/services/{self.row['domain']}/dns/"
        editing = random.choice(list(self.records)) if self.records and random.random() < 0.5 else None
        value = f"soak-{uuid.uuid4().hex[:12]}"
        for _attempt in range(3):  # a stale serial (another tab of the same customer) means: read again
            page = self.request("GET", zone)
            if page is None or page.status_code != 200:
                return
            serial = SERIAL_INPUT.search(page.text).group(1)
            data = {"type": "TXT", "ttl": "3600", "value": value, "serial": serial}
            if editing:
                data["name"] = f"r{editing}"
                response = self.write("dns", f"{zone}records/{editing}/edit/", data)
            else:
                data["name"] = f"h{uuid.uuid4().hex[:8]}"
                response = self.write("dns", f"{zone}records/add/", data)
            if response is None:
                return
            if response.status_code == 302:
                pk = editing or int(response.headers["location"].rsplit("#record-", 1)[1])
                self.records[pk] = value
                return

    def licence(self) -> None:
        delta = 1 if self.quantity < 250 else -1
        response = self.write("licence", f"/services/m365/{self.row['pack']}/licences/", {"delta": str(delta)})
        if response is not None and response.status_code == 302 and "#pack-" in response.headers["location"]:
            self.licence_delta += delta
            self.quantity += delta

    def buy_credits(self) -> None:
        page = self.request("GET", "/billing/buy/")
        if page is None or page.status_code != 200:
            return
        match = PACK_INPUT.search(page.text)
        response = self.write("invoice", "/billing/buy/order/", {"pack": match.group(1) or match.group(2)})
        if (
            response is not None
            and response.status_code == 302
            and "/billing/invoices/" in response.headers["location"]
        ):
            self.invoices.append(response.headers["location"].rstrip("/").rsplit("/", 1)[1])

    def spend(self) -> None:
        """Accept the next quotes all at once from parallel threads (own connection and cookie jar each, so
        that each reads its own message), one of them twice; each thread notes what the page said."""
        batch, self.untried = self.untried[:SPENDERS], self.untried[SPENDERS:]
        if not batch:
            return self.browse()
        batch.append(batch[0])
        barrier = threading.Barrier(len(batch))
        threads = [threading.Thread(target=self._accept, args=(pk, credits, barrier)) for pk, credits in batch]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.spends.bursts += 1

    def _accept(self, pk: int, credits: int, barrier: threading.Barrier) -> None:
        number = self.row["quote_ticket"]
        cookies = {name: value for name, value in self.cookies.items() if name != "messages"}
        with httpx.Client(base_url=self.base_url, timeout=60, follow_redirects=False) as client:
            with contextlib.suppress(threading.BrokenBarrierError):  # a thread that failed to start: go on
                barrier.wait(timeout=30)
            response = self.write("spend", f"/support/{number}/quotes/{pk}/accept/", {}, cookies=cookies,
                                  client=client)  # fmt: skip
            if response is None:
                return
            if response.status_code != 302:
                return self.spends.note(pk, f"answered {response.status_code}")
            page = self.request("GET", response.headers["location"], cookies=cookies, client=client)
        if page is None or page.status_code != 200:
            return self.spends.note(pk, "message lost")  # the accept was answered; the page showing it was not
        said = " ".join(text for _level, text in MESSAGE.findall(page.text))
        if (spent := SPENT.search(said)) and int(spent.group(1)) == credits:
            self.spends.note(pk, "spent")
        elif REFUSED in said:
            self.spends.note(pk, "refused")
        elif ANSWERED in said:
            self.spends.note(pk, "already answered")
        else:
            self.spends.note(pk, f"no clear message: {said[:200]!r}")

    def browse(self) -> None:
        self.request("GET", random.choice(["/dashboard/", "/support/", "/services/", "/billing/", "/services/m365/"]))

    def work(self, stop: threading.Event, think: float) -> None:
        actions = [self.remark, self.dns, self.dns, self.licence, self.buy_credits, self.spend, self.browse]
        while not stop.is_set():
            random.choice(actions)()
            stop.wait(random.uniform(0, think))
