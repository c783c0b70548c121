"""Personas and helpers shared by the whole suite."""

import pytest
from django.test import Client

from accounts.roles import Role
from tests.factories import CustomerFactory, MembershipFactory, UserFactory


@pytest.fixture
def customer(db):
    return CustomerFactory(name="Acme SRL")


@pytest.fixture
def other_customer(db):
    return CustomerFactory(name="Globex NV")


@pytest.fixture
def owner(customer):
    return MembershipFactory(customer=customer, role=Role.OWNER, user__email="owner@acme.example").user


@pytest.fixture
def technical_member(customer):
    return MembershipFactory(customer=customer, role=Role.TECHNICAL, user__email="tech@acme.example").user


@pytest.fixture
def billing_member(customer):
    return MembershipFactory(customer=customer, role=Role.BILLING, user__email="billing@acme.example").user


@pytest.fixture
def other_owner(other_customer):
    return MembershipFactory(customer=other_customer, role=Role.OWNER, user__email="owner@globex.example").user


@pytest.fixture
def staff_user(db):
    return UserFactory(email="staff@portal.example", is_staff=True, is_superuser=True)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def owner_client(owner):
    return client_for(owner)


@pytest.fixture
def technical_client(technical_member):
    return client_for(technical_member)


@pytest.fixture
def other_client(other_owner):
    return client_for(other_owner)


@pytest.fixture
def reauthenticated(settings):
    """Sensitive views ask for the password again; tests that are not about that skip the prompt."""
    settings.ACCOUNT_REAUTHENTICATION_REQUIRED = False
