"""The response headers of a page: CSP, HSTS (over HTTPS), frames refused, no sniffing, referrer.

Secure cookies and the HTTPS redirect are checked by `check --deploy` in `make security`."""

import pytest
from django.urls import reverse

pytestmark = [pytest.mark.security, pytest.mark.django_db]


@pytest.mark.parametrize("signed_in", [False, True])
def test_every_page_carries_the_security_headers(client, owner, signed_in):
    if signed_in:
        client.force_login(owner)
    url = reverse("dashboard") if signed_in else reverse("account_login")
    response = client.get(url, secure=True)
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"):
        assert directive in csp, csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
