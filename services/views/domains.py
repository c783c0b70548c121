"""The customer's domain requests (art. 4.2) and our nameservers (art. 4.3): list, new, detail, documents."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.forms import add_errors
from portal.reauth import sensitive
from portal.scoping import customer_required, get_scoped_or_404, scoped
from services import domains
from services.models import DomainRequest, DomainRequestMessage, Plan
from support import attachments

RequestKind = DomainRequest.Kind
Status = DomainRequest.Status

KIND_HELP = {
    RequestKind.REGISTER: gettext_lazy("A new domain name, registered by us in your name."),
    RequestKind.TRANSFER: gettext_lazy(
        "A domain you own, moved to us from another registrar; you need its auth code. The owner stays the same."
    ),
    RequestKind.TRADE: gettext_lazy("A domain that changes owner: from its current owner to you."),
    RequestKind.DNS_HOSTING: gettext_lazy(
        "A domain registered elsewhere that stays there but uses our nameservers (art. 4.3.2)."
    ),
}


class RequestForm(forms.Form):
    """The fields of one kind of request; the rules are checked by ``domains.submit_request``."""

    domain = forms.CharField(label=gettext_lazy("Domain name"), max_length=300)
    years = forms.IntegerField(label=gettext_lazy("Term (years)"), min_value=1, max_value=domains.MAX_YEARS, initial=1)
    plan = forms.ModelChoiceField(label=gettext_lazy("Plan"), queryset=Plan.objects.none(), empty_label=None)
    auth_code = forms.CharField(
        label=gettext_lazy("Auth code"), max_length=255, widget=forms.PasswordInput(render_value=False)
    )
    new_owner = forms.CharField(label=gettext_lazy("New owner's details"), widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        if kind == RequestKind.DNS_HOSTING:
            del self.fields["years"], self.fields["plan"]
        else:
            self.fields["plan"].queryset = domains.offered_plans()
            self.fields["plan"].initial = domains.default_plan()
        if kind != RequestKind.TRANSFER:
            del self.fields["auth_code"]
        if kind != RequestKind.TRADE:
            del self.fields["new_owner"]


class AnswerForm(forms.Form):
    body = forms.CharField(label=gettext_lazy("Your answer"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    document = forms.FileField(label=gettext_lazy("Document"), required=False)


def _domain_request(request: HttpRequest, pk: int) -> DomainRequest:
    queryset = DomainRequest.objects.select_related("plan", "service", "requested_by")
    return get_scoped_or_404(request, queryset, pk=pk)


@customer_required("view")
def domain_request_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(scoped(request, DomainRequest).select_related("service"), 25).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for domain_request in page.object_list:
        domain_request.display_domain = domains.display_domain(domain_request.domain)
    context = {
        "page": page, "nameservers": domains.nameservers(), "can_request": bool(domains.kinds_for(request.membership)),
    }  # fmt: skip
    return render(request, "services/domain_request_list.html", context)


def _new_context(request: HttpRequest, form: RequestForm, kind: str, kinds: list[str]) -> dict:
    return {
        "form": form, "kind": kind, "kind_label": RequestKind(kind).label, "kind_help": KIND_HELP[kind],
        "kind_choices": [(k, RequestKind(k).label, KIND_HELP[k]) for k in kinds], "kinds": RequestKind,
        "nameservers": domains.nameservers(), "max_years": domains.MAX_YEARS,
    }  # fmt: skip


@customer_required("view")
def domain_request_new(request: HttpRequest) -> HttpResponse:
    """Choose the kind (its fields appear with htmx, or after "show the form" without JavaScript), then send."""
    kinds = domains.kinds_for(request.membership)
    if not kinds:
        raise PermissionDenied
    if request.method == "POST":
        return _submit(request, kinds)
    kind = request.GET.get("kind", "")
    kind = kind if kind in kinds else kinds[0]
    form = RequestForm(kind=kind, initial={"years": 1})
    fragment = request.htmx and not request.htmx.history_restore_request  # a restored page needs all of it
    template = "services/domain_request_new.html#request-form" if fragment else "services/domain_request_new.html"
    return render(request, template, _new_context(request, form, kind, kinds))


@sensitive
def _submit(request: HttpRequest, kinds: list[str]) -> HttpResponse:
    """Spending (or handing the domain to us) asks for the password again."""
    kind = request.POST.get("kind", "")
    if kind not in RequestKind.values:
        kind = kinds[0]
    elif kind not in kinds:
        raise PermissionDenied  # a technical contact cannot register (spend), a billing contact cannot host DNS
    form = RequestForm(request.POST, kind=kind)
    if form.is_valid():
        data = form.cleaned_data
        try:
            domain_request = domains.submit_request(
                customer=request.customer, by=request.user, kind=kind, domain=data["domain"],
                years=data.get("years") or 1, auth_code=data.get("auth_code", ""),
                new_owner=data.get("new_owner", ""), plan=data.get("plan"),
            )  # fmt: skip
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request,
                _("Your request for %(domain)s is sent. We tell you here and by e-mail how it goes.")
                % {"domain": domains.display_domain(domain_request.domain)},
            )
            return redirect(domain_request)
    return render(request, "services/domain_request_new.html", _new_context(request, form, kind, kinds))


def _timeline(domain_request: DomainRequest) -> list[DomainRequestMessage]:
    entries = list(domain_request.messages.select_related("author"))
    for entry in entries:
        entry.old_label = Status(entry.old_status).label if entry.old_status in Status.values else entry.old_status
        entry.new_label = Status(entry.new_status).label if entry.new_status in Status.values else entry.new_status
    return entries


def _detail_context(request: HttpRequest, domain_request: DomainRequest, form: AnswerForm, **extra) -> dict:
    timeline = _timeline(domain_request)
    question = None
    if domain_request.status == Status.INFORMATION_REQUESTED:
        question = next((e for e in reversed(timeline) if e.new_status == Status.INFORMATION_REQUESTED), None)
    permitted = request.membership.can(domains.PERMISSION_FOR_KIND[domain_request.kind])
    return {
        "domain_request": domain_request, "display_domain": domains.display_domain(domain_request.domain),
        "timeline": timeline, "question": question, "form": form, "kinds": RequestKind, "statuses": Status,
        "can_answer": permitted and domain_request.status in domains.OPEN_STATUSES,
        "nameservers": domains.nameservers(), "attachment_types": ", ".join(attachments.allowed_extensions()),
        "attachment_limit": settings.SUPPORT_ATTACHMENT_MAX_BYTES, **extra,
    }  # fmt: skip


@customer_required("view")
def domain_request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The request's states as a timeline, the registry's questions, and the customer's answer (POST)."""
    domain_request = _domain_request(request, pk)
    template = "services/domain_request_detail.html"
    if request.method != "POST":
        return render(request, template, _detail_context(request, domain_request, AnswerForm()))
    if not request.membership.can(domains.PERMISSION_FOR_KIND[domain_request.kind]):
        raise PermissionDenied
    form = AnswerForm(request.POST, request.FILES)
    answered = False
    if form.is_valid():
        try:
            domains.answer(
                request=domain_request, by=request.user, body=form.cleaned_data["body"],
                document=form.cleaned_data["document"],
            )  # fmt: skip
        except ValidationError as error:
            add_errors(form, error)
        else:
            answered = True
            if not request.htmx:
                messages.success(request, _("Your answer was sent to our staff."))
                return redirect(domain_request)
            domain_request, form = _domain_request(request, pk), AnswerForm()
    context = _detail_context(request, domain_request, form, answered=answered)
    return render(request, f"{template}#request-state" if request.htmx else template, context)


@customer_required("view")
def domain_request_document(request: HttpRequest, pk: int, message_pk: int) -> FileResponse:
    entry = get_scoped_or_404(request, DomainRequestMessage, request_id=pk, pk=message_pk)
    if not entry.document:
        raise Http404
    return FileResponse(
        entry.document.open("rb"), as_attachment=True, filename=entry.document_name or "document",
        content_type="application/octet-stream",
    )  # fmt: skip
