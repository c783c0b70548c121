"""Changing who is in a customer's team and with which role."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Membership, User
from accounts.roles import Role
from portal import audit


def _ensure_an_owner_remains(membership: Membership) -> None:
    others = Membership.objects.filter(customer=membership.customer, role=Role.OWNER).exclude(pk=membership.pk)
    if membership.role == Role.OWNER and not others.exists():
        raise ValidationError(_("A customer needs at least one owner. Make someone else owner first."))


@transaction.atomic
def change_role(*, membership: Membership, role: str, by: User, request=None) -> Membership:
    Role(role)
    membership = (
        Membership.objects.select_for_update(of=("self",)).select_related("customer", "user").get(pk=membership.pk)
    )
    if membership.role == role:
        return membership
    if role != Role.OWNER:
        _ensure_an_owner_remains(membership)
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit.record(
        "membership.role_changed",
        actor=by,
        customer=membership.customer,
        obj=membership,
        request=request,
        member=membership.user.email,
        old=old,
        new=role,
    )
    return membership


@transaction.atomic
def remove_member(*, membership: Membership, by: User, request=None) -> None:
    membership = (
        Membership.objects.select_for_update(of=("self",)).select_related("customer", "user").get(pk=membership.pk)
    )
    _ensure_an_owner_remains(membership)
    audit.record(
        "membership.removed",
        actor=by,
        customer=membership.customer,
        obj=membership,
        request=request,
        member=membership.user.email,
        role=membership.role,
    )
    membership.delete()
