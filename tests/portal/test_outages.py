"""A Redis outage (broker and cache) costs no page and no e-mail (issue 8, item 11; `make soak` runs it live)."""

from unittest import mock

import pytest
from django.core import mail as outbox
from kombu.exceptions import OperationalError

from portal import mail
from portal.cache import TolerantRedisCache
from portal.tasks import send_email

BROKER_DOWN = OperationalError("Error 111 connecting to 127.0.0.1:6390. Connection refused.")


def test_a_mail_is_sent_from_the_web_process_when_the_broker_is_down(caplog):
    with mock.patch.object(send_email, "delay", side_effect=BROKER_DOWN):
        mail.enqueue(to=["staff@portal.example"], subject="[T-1] Remark", text="Body")
    assert [m.subject for m in outbox.outbox] == ["[T-1] Remark"]
    assert "Broker unavailable" in caplog.text


@pytest.mark.django_db
def test_send_templated_after_commit_survives_the_broker_outage(django_capture_on_commit_callbacks):
    context = {"link": "http://portal.example/", "ticket": None, "remark": None}
    with (
        mock.patch.object(send_email, "delay", side_effect=BROKER_DOWN),
        django_capture_on_commit_callbacks(execute=True),
    ):
        mail.send_templated(to=["a@example.com"], template_prefix="support/email/staff_remark", context=context)
    assert len(outbox.outbox) == 1


def test_a_mail_goes_to_the_broker_when_it_is_up():
    with mock.patch.object(send_email, "delay") as delay:
        mail.enqueue(to=["a@example.com"], subject="S", text="T")
    delay.assert_called_once_with(to=["a@example.com"], subject="S", text="T", html="")
    assert outbox.outbox == []


def test_the_cache_carries_on_without_redis_and_add_fails_closed():
    cache = TolerantRedisCache("redis://127.0.0.1:1/0", {})  # nothing listens on port 1
    assert cache.get("k", "default") == "default"
    assert cache.get_many(["k"]) == {}
    assert cache.has_key("k") is False
    cache.set("k", 1)
    cache.set_many({"k": 1})
    cache.delete_many(["k"])
    assert cache.delete("k") is False
    assert cache.touch("k") is False
    # allauth's rate-limit lock and TOTP replay check use add: refused, never granted blindly.
    assert cache.add("k", 1) is False


def test_the_error_page_renders_when_the_database_is_what_failed(rf):
    """The 500 handler touches no database: PostgreSQL dropping the connection still shows templates/500.html."""
    from portal.views import error_500

    request = rf.get("/")
    request.user = mock.Mock(is_authenticated=True)
    type(request).membership = mock.PropertyMock(side_effect=RuntimeError("the database is gone"))
    try:
        response = error_500(request)
    finally:
        del type(request).membership
    assert response.status_code == 500
    assert "nothing you sent has been lost" in response.content.decode()
