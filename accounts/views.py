from allauth.account.adapter import get_adapter
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts import invitations, team
from accounts.adapters import INVITATION_SESSION_KEY
from accounts.forms import InvitationForm, RoleForm
from accounts.models import AuditEvent, Invitation, Membership
from accounts.roles import PERMISSIONS, Permission, Role
from portal.audit import describe
from portal.reauth import sensitive
from portal.scoping import SESSION_KEY, customer_required, get_scoped_or_404, scoped


def _team_context(request: HttpRequest, form: InvitationForm | None = None) -> dict:
    return {
        "members": scoped(request, Membership).select_related("user").order_by("user__email"),
        "invitations": [
            i for i in scoped(request, Invitation).filter(accepted_at=None, revoked_at=None) if not i.is_expired()
        ],
        "form": form or InvitationForm(),
        "role_form_choices": Role.choices,
        "permissions": [(p.label, [r in PERMISSIONS[p] for r in Role]) for p in Permission],
        "roles": Role.choices,
    }


@customer_required("view")
def team_page(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/team.html", _team_context(request))


@require_POST
@customer_required("manage_team")
@sensitive
def invite(request: HttpRequest) -> HttpResponse:
    form = InvitationForm(request.POST)
    if form.is_valid():
        try:
            invitations.invite(
                customer=request.customer,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                invited_by=request.user,
                request=request,
                base_url=request.build_absolute_uri("/").rstrip("/"),
            )
        except ValidationError as error:
            form.add_error("email", error)
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]})
            return HttpResponseClientRedirect(reverse("team")) if request.htmx else redirect("team")
    template = "accounts/team.html#invite-form" if request.htmx else "accounts/team.html"
    return render(request, template, _team_context(request, form))


@require_POST
@customer_required("manage_team")
@sensitive
def revoke_invitation(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = get_scoped_or_404(request, Invitation, pk=pk)
    invitations.revoke(invitation=invitation, by=request.user, request=request)
    messages.success(request, _("The invitation to %(email)s was withdrawn.") % {"email": invitation.email})
    return redirect("team")


@require_POST
@customer_required("manage_team")
@sensitive
def change_role(request: HttpRequest, pk: int) -> HttpResponse:
    membership = get_scoped_or_404(request, Membership.objects.select_related("user"), pk=pk)
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            team.change_role(membership=membership, role=form.cleaned_data["role"], by=request.user, request=request)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("%(person)s's role was changed.") % {"person": membership.user})
    return redirect("team")


@require_POST
@customer_required("manage_team")
@sensitive
def remove_member(request: HttpRequest, pk: int) -> HttpResponse:
    membership = get_scoped_or_404(request, Membership.objects.select_related("user"), pk=pk)
    try:
        team.remove_member(membership=membership, by=request.user, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("%(person)s was removed from the team.") % {"person": membership.user})
    return redirect("team")


@customer_required("manage_team")
def activity(request: HttpRequest) -> HttpResponse:
    events = scoped(request, AuditEvent).select_related("actor")
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    for event in page.object_list:
        event.label = describe(event.action)
    return render(request, "accounts/activity.html", {"page": page})


def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    """Shows the invitation; signed in as the invited address, a POST accepts it."""
    try:
        invitation = invitations.invitation_from_token(token)
    except ValidationError as error:
        return render(request, "accounts/invitation.html", {"error": " ".join(error.messages)}, status=410)
    if not request.user.is_authenticated:
        # Allow sign-up for this address only, with the address already verified by the link.
        request.session[INVITATION_SESSION_KEY] = token
        get_adapter(request).stash_verified_email(request, invitation.email)
    if request.method == "POST" and request.user.is_authenticated:
        try:
            membership = invitations.accept(token=token, user=request.user, request=request)
        except ValidationError as error:
            return render(
                request,
                "accounts/invitation.html",
                {"invitation": invitation, "error": " ".join(error.messages)},
                status=400,
            )
        request.session.pop(INVITATION_SESSION_KEY, None)
        request.session[SESSION_KEY] = membership.customer_id
        messages.success(request, _("Welcome to %(customer)s.") % {"customer": membership.customer})
        return redirect("dashboard")
    here = reverse("invitation_accept", args=[token])
    return render(request, "accounts/invitation.html", {"invitation": invitation, "next": here})
