import pytest

from accounts.roles import PERMISSIONS, Permission, Role, permissions_of, role_can


def test_every_permission_has_a_row_in_the_one_table():
    assert set(PERMISSIONS) == set(Permission)


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.OWNER, {"view", "open_tickets", "manage_dns", "spend", "manage_team"}),
        (Role.ADMIN, {"view", "open_tickets", "manage_dns", "spend"}),
        (Role.TECHNICAL, {"view", "open_tickets", "manage_dns"}),
        (Role.BILLING, {"view", "spend"}),
    ],
)
def test_what_each_role_may_do(role, allowed):
    assert permissions_of(role) == allowed


def test_an_unknown_role_or_permission_is_an_error_not_a_silent_no():
    with pytest.raises(ValueError):
        role_can("superhero", "view")
    with pytest.raises(ValueError):
        role_can(Role.OWNER, "fly")
