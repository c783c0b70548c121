"""The security suite walks the same objects of Acme as tests/portal/test_scoping.py."""

from tests.portal.test_scoping import acme_objects  # noqa: F401 (a fixture, shared)
