"""The customer's page in the admin."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from tests.conftest import client_for


@pytest.mark.django_db
def test_the_customer_page_shows_each_members_user_chosen_in_its_autocomplete_box(
    staff_user, customer, owner, technical_member, settings
):
    settings.PORTAL_ADMIN_REQUIRE_MFA = False
    body = client_for(staff_user).get(reverse("admin:accounts_customer_change", args=[customer.pk])).content.decode()
    for user in (owner, technical_member):
        assert f'<option value="{user.pk}" selected>{escape(str(user))}</option>' in body
