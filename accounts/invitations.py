"""Inviting people to a customer: a signed link that expires; accepting creates the membership."""

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Customer, Invitation, Membership, User
from accounts.roles import Role
from portal import audit, mail

SALT = "accounts.invitation"


def make_token(invitation: Invitation) -> str:
    return signing.dumps({"id": invitation.pk, "email": invitation.email}, salt=SALT)


def max_age_seconds() -> int:
    return settings.PORTAL_INVITATION_MAX_AGE_DAYS * 24 * 3600


@transaction.atomic
def invite(*, customer: Customer, email: str, role: str, invited_by: User, request=None, base_url: str) -> Invitation:
    email = User.objects.normalize_email(email).lower()
    Role(role)
    if Membership.objects.filter(customer=customer, user__email__iexact=email).exists():
        raise ValidationError(
            _("%(email)s is already a member of %(customer)s."), params={"email": email, "customer": customer}
        )
    # A new invitation replaces a pending one for the same address.
    Invitation.objects.filter(customer=customer, email__iexact=email, accepted_at=None, revoked_at=None).update(
        revoked_at=timezone.now()
    )
    invitation = Invitation.objects.create(customer=customer, email=email, role=role, invited_by=invited_by)
    audit.record(
        "invitation.sent", actor=invited_by, customer=customer, obj=invitation, request=request, email=email, role=role
    )
    link = base_url + reverse("invitation_accept", args=[make_token(invitation)])
    mail.send_templated(
        to=[email],
        template_prefix="accounts/email/invitation",
        context={"invitation": invitation, "link": link, "days": settings.PORTAL_INVITATION_MAX_AGE_DAYS},
        language=customer.preferred_language,
    )
    return invitation


def invitation_from_token(token: str) -> Invitation:
    """The pending invitation the token names, or ValidationError with a readable reason."""
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age_seconds())
    except signing.SignatureExpired as error:
        raise ValidationError(_("This invitation has expired. Ask for a new one."), code="expired") from error
    except signing.BadSignature as error:
        raise ValidationError(_("This invitation link is not valid."), code="invalid") from error
    invitation = (
        Invitation.objects.select_related("customer").filter(pk=data.get("id"), email=data.get("email")).first()
    )
    if invitation is None or invitation.revoked_at is not None:
        raise ValidationError(_("This invitation has been withdrawn."), code="revoked")
    if invitation.accepted_at is not None:
        raise ValidationError(_("This invitation has already been accepted."), code="accepted")
    return invitation


@transaction.atomic
def accept(*, token: str, user: User, request=None) -> Membership:
    invitation = invitation_from_token(token)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise ValidationError(_("This invitation has already been accepted."), code="accepted")
    if invitation.email.lower() != user.email.lower():
        raise ValidationError(
            _("This invitation was sent to %(email)s. Sign in with that address to accept it."),
            params={"email": invitation.email},
            code="wrong_user",
        )
    membership, _created = Membership.objects.get_or_create(
        user=user, customer=invitation.customer, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit.record(
        "invitation.accepted",
        actor=user,
        customer=invitation.customer,
        obj=invitation,
        request=request,
        role=membership.role,
    )
    return membership


@transaction.atomic
def revoke(*, invitation: Invitation, by: User, request=None) -> None:
    if not invitation.is_pending:
        return
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit.record("invitation.revoked", actor=by, customer=invitation.customer, obj=invitation, request=request)


def purge_expired(*, now=None) -> int:
    """Mark expired pending invitations as revoked, so the team page lists only live ones."""
    now = now or timezone.now()
    cutoff = now - timezone.timedelta(days=settings.PORTAL_INVITATION_MAX_AGE_DAYS)
    return Invitation.objects.filter(accepted_at=None, revoked_at=None, created_at__lte=cutoff).update(revoked_at=now)
