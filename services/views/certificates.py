"""SSL certificates (art. 5): the list, requesting one, following its request, installing the issued
certificate, the one-time key download, renewal and the integration intervention."""

import datetime

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget

from portal.forms import add_errors
from portal.reauth import sensitive
from portal.scoping import customer_required, get_scoped_or_404, scoped
from services import certificates
from services.models import Certificate, CertificateRequest, CertificateRequestMessage, Kind, Plan, Service
from support.forms import MultipleFileField
from support.models import Priority

Status = CertificateRequest.Status
KeySource = CertificateRequest.KeySource
MAX_UPLOAD_BYTES = 256 * 1024  # a certificate with its chain is a few kilobytes


# Forms


class RequestForm(forms.Form):
    names = forms.CharField(
        label=gettext_lazy("Names"), required=False, widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy("One host name per line, such as www.example.com; a wildcard as *.example.com."),
    )  # fmt: skip
    key_source = forms.ChoiceField(
        label=gettext_lazy("Private key"), initial=KeySource.GENERATED,
        choices=[
            (KeySource.GENERATED, gettext_lazy("Let the portal generate the private key and the CSR")),
            (KeySource.CUSTOMER_CSR, gettext_lazy("I send my own CSR")),
        ],
        widget=forms.RadioSelect,
    )  # fmt: skip
    key_type = forms.ChoiceField(
        label=gettext_lazy("Key type"), choices=list(certificates.KEY_TYPES.items()), initial="rsa2048",
        widget=forms.RadioSelect, required=False,
    )  # fmt: skip
    csr_pem = forms.CharField(label=gettext_lazy("Your CSR"), required=False, widget=forms.Textarea(attrs={"rows": 8}))
    plan = forms.ModelChoiceField(label=gettext_lazy("Certificate"), queryset=Plan.objects.none(), required=False)
    replaces = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        plans = Plan.objects.filter(kind=Kind.SSL_CERTIFICATE, is_active=True)
        self.fields["plan"].queryset = plans
        self.fields["plan"].required = plans.exists()

    def clean(self):
        data = super().clean()
        if data.get("key_source") == KeySource.CUSTOMER_CSR:
            if not data.get("csr_pem", "").strip():
                self.add_error("csr_pem", _("Paste your certificate signing request (CSR)."))
        elif not data.get("names", "").strip():
            self.add_error("names", _("Enter at least one host name, such as www.example.com."))
        return data


class UploadForm(forms.Form):
    pem = forms.CharField(label=gettext_lazy("Certificate (PEM)"), required=False, widget=forms.Textarea)
    pem_file = forms.FileField(label=gettext_lazy("or its file"), required=False)
    chain = forms.CharField(
        label=gettext_lazy("Intermediate certificates (PEM)"), required=False, widget=forms.Textarea
    )
    chain_file = forms.FileField(label=gettext_lazy("or their file"), required=False)

    def _text(self, name: str) -> str:
        upload = self.cleaned_data.get(f"{name}_file")
        if upload is None:
            return self.cleaned_data.get(name, "")
        if upload.size > MAX_UPLOAD_BYTES:
            self.add_error(f"{name}_file", _("This file is too large for a certificate."))
            return ""
        return upload.read()  # bytes: inspect tells PEM text from a binary file

    def clean(self):
        data = super().clean()
        data["pem_text"], data["chain_text"] = self._text("pem"), self._text("chain")
        return data


class AnswerForm(forms.Form):
    body = forms.CharField(label=gettext_lazy("Your answer"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    files = MultipleFileField(label=gettext_lazy("Documents"))
    csr_pem = forms.CharField(label=gettext_lazy("New CSR"), required=False, widget=forms.Textarea(attrs={"rows": 8}))


class IntegrationForm(forms.Form):
    priority = forms.ChoiceField(
        label=gettext_lazy("Priority"), choices=Priority.choices, initial=Priority.STANDARD, widget=forms.RadioSelect
    )
    notes = forms.CharField(
        label=gettext_lazy("Where should it go?"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("The site or hosting, and anything we should know."),
    )  # fmt: skip


# Fetching


def _request_for(request: HttpRequest, pk: int) -> CertificateRequest:
    return get_scoped_or_404(request, CertificateRequest.objects.select_related("plan", "service"), pk=pk)


def _days_left(not_after: datetime.datetime, today: datetime.date) -> int:
    return (timezone.localtime(not_after).date() - today).days


def _latest(certs: list[Certificate]) -> Certificate | None:
    return max(certs, key=lambda c: (c.uploaded_at, c.pk), default=None)


# The list


@customer_required("view")
def certificate_list(request: HttpRequest) -> HttpResponse:
    # The latest certificate's end date by subquery; the keys, CSRs and PEMs the table never shows stay unread.
    latest = Certificate.objects.filter(request=OuterRef("pk")).order_by("-uploaded_at", "-pk")
    found = (
        scoped(request, CertificateRequest)
        .defer("private_key_encrypted", "csr_pem")
        .annotate(not_after=Subquery(latest.values("not_after")[:1]))
    )
    status = request.GET.get("status", "")
    if status in Status.values:
        found = found.filter(status=status)
    else:
        status = ""
    page = Paginator(found, 25).get_page(request.GET.get("page"))
    today = timezone.localdate()
    for row in page.object_list:
        row.days_left = _days_left(row.not_after, today) if row.not_after else None
    context = {"page": page, "status": status, "statuses": Status.choices}
    template = "services/certificate_list.html#certificate-table" if request.htmx else "services/certificate_list.html"
    return render(request, template, context)


# Requesting


def _domains(request: HttpRequest) -> list[str]:
    """The customer's domain names, to help fill in the names."""
    domains = (
        scoped(request, Service)
        .filter(plan__kind=Kind.DOMAIN)
        .exclude(status__in=[Service.Status.ENDED, Service.Status.EXPIRED])
    )
    return sorted(set(domains.values_list("name", flat=True)))


def _with_domain(names: str, domain: str) -> str:
    lines = [line.strip() for line in names.splitlines() if line.strip()]
    for name in (domain, f"www.{domain}"):
        if name not in lines:
            lines.append(name)
    return "\n".join(lines)


@customer_required("manage_dns")
def certificate_new(request: HttpRequest) -> HttpResponse:
    """GET: the form (``?renew=ID`` fills it in for a renewal; ``?add=1&domain=…`` adds a domain of
    the customer's, which htmx does in place). POST: send the request."""
    if request.method == "POST":
        return _send_request(request)
    domains = _domains(request)
    initial = {"key_source": KeySource.GENERATED, "key_type": "rsa2048"}
    renewing = None
    if request.GET.get("renew", "").isdecimal():
        renewing = _request_for(request, int(request.GET["renew"]))
        initial.update(
            names="\n".join(renewing.names), key_source=renewing.key_source, plan=renewing.plan_id,
            key_type=certificates.key_type_of(renewing), replaces=renewing.pk,
        )  # fmt: skip
    if "domain" in request.GET:
        # htmx sends the names as typed; without JavaScript the helper form carries them as current_names.
        initial["names"] = request.GET.get("names", request.GET.get("current_names", initial.get("names", "")))
        if request.GET.get("domain") in domains:
            initial["names"] = _with_domain(initial.get("names", ""), request.GET["domain"])
    form = RequestForm(initial=initial)
    if request.htmx and "domain" in request.GET:
        return render(request, "services/certificate_new.html#names-field", {"form": form, "domains": domains})
    return _new_page(request, form, domains, renewing)


def _new_page(request: HttpRequest, form: RequestForm, domains: list[str], renewing=None) -> HttpResponse:
    context = {"form": form, "domains": domains, "renewing": renewing, "key_types": certificates.KEY_TYPES}
    return render(request, "services/certificate_new.html", context)


@sensitive
def _send_request(request: HttpRequest) -> HttpResponse:
    form = RequestForm(request.POST)
    renewing = None
    if form.is_valid():
        data = form.cleaned_data
        if data.get("replaces"):
            renewing = _request_for(request, data["replaces"])
        by_csr = data["key_source"] == KeySource.CUSTOMER_CSR
        try:
            created = certificates.request_certificate(
                customer=request.customer, by=request.user, names=data["names"], plan=data.get("plan"),
                csr_pem=data["csr_pem"] if by_csr else None, key_type=data["key_type"] or "rsa2048", replaces=renewing,
            )  # fmt: skip
        except ValidationError as error:
            add_errors(form, error)
        else:
            if created.key_source == KeySource.GENERATED:
                note = _("Your certificate request is sent. Download its private key now: it is shown only once.")
            else:
                note = _("Your certificate request is sent. We will tell you when the certificate is issued.")
            messages.success(request, note)
            return redirect(created)
    return _new_page(request, form, _domains(request), renewing)


# One request


def _timeline(cert_request: CertificateRequest) -> list[CertificateRequestMessage]:
    labels = dict(Status.choices)
    timeline = list(cert_request.messages.select_related("author"))
    for message in timeline:
        message.old_label, message.new_label = labels.get(message.old_status, ""), labels.get(message.new_status, "")
    return timeline


def _detail_context(request: HttpRequest, cert_request: CertificateRequest, **forms_given) -> dict:
    now = timezone.now()
    certificate = _latest(list(cert_request.certificates.all()))
    inspection = (
        certificates.inspect(certificate.pem, chain=certificate.chain_pem or None, now=now) if certificate else None
    )
    is_open = cert_request.status in certificates.OPEN_STATUSES
    reason = certificates.integration_reason()
    prices = [(value, label, reason.price_text(value)) for value, label in Priority.choices] if reason else []
    return {
        "cert_request": cert_request,
        "certificate": certificate,
        "inspection": inspection,
        "days_left": _days_left(certificate.not_after, timezone.localdate()) if certificate else None,
        "timeline": _timeline(cert_request),
        "renewal": certificates.renewal_of(cert_request),
        "is_open": is_open,
        "can_upload": is_open and bool(cert_request.csr_pem),
        "needs_csr": cert_request.status == Status.INFORMATION_REQUESTED and not cert_request.csr_pem,
        "key_downloadable": cert_request.key_source == KeySource.GENERATED
        and bool(cert_request.private_key_encrypted)
        and cert_request.key_downloaded_at is None,
        "can_renew": cert_request.status == Status.ISSUED and certificates.renewal_of(cert_request) is None,
        "integration_prices": prices,
        "upload_form": forms_given.get("upload_form") or UploadForm(),
        "answer_form": forms_given.get("answer_form") or AnswerForm(),
        "integration_form": IntegrationForm(),
    }


@customer_required("view")
def certificate_detail(request: HttpRequest, pk: int) -> HttpResponse:
    cert_request = _request_for(request, pk)
    return render(request, "services/certificate_detail.html", _detail_context(request, cert_request))


def _done(request: HttpRequest, cert_request: CertificateRequest) -> HttpResponse:
    if request.htmx:
        return HttpResponseClientRedirect(cert_request.get_absolute_url())
    return redirect(cert_request)


def _form_failed(request: HttpRequest, cert_request: CertificateRequest, partial: str, **forms_given) -> HttpResponse:
    context = _detail_context(request, cert_request, **forms_given)
    if request.htmx:
        response = render(request, f"services/certificate_detail.html#{partial}", context)
        return reswap(retarget(response, f"#{partial}"), "outerHTML")
    return render(request, "services/certificate_detail.html", context)


@require_POST
@customer_required("manage_dns")
def certificate_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """The issued certificate, pasted or as files; inspect's problems are shown per field."""
    cert_request = _request_for(request, pk)
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            certificates.install_certificate(
                request=cert_request, pem=form.cleaned_data["pem_text"], chain=form.cleaned_data["chain_text"],
                by=request.user,
            )  # fmt: skip
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The certificate is installed. Its contract runs until it expires."))
            return _done(request, cert_request)
    return _form_failed(request, cert_request, "upload-form", upload_form=form)


@require_POST
@customer_required("manage_dns")
def certificate_answer(request: HttpRequest, pk: int) -> HttpResponse:
    cert_request = _request_for(request, pk)
    form = AnswerForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            certificates.answer(
                request=cert_request, by=request.user, body=data["body"], files=data["files"],
                csr_pem=data["csr_pem"] or None,
            )  # fmt: skip
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("Your answer is sent."))
            return _done(request, cert_request)
    return _form_failed(request, cert_request, "answer-form", answer_form=form)


@require_POST
@customer_required("manage_dns")
@sensitive
def certificate_key_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The generated private key, once (then never again)."""
    cert_request = _request_for(request, pk)
    try:
        key_pem = certificates.download_key(request=cert_request, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(cert_request)
    filename = cert_request.common_name.replace("*", "wildcard") or f"certificate-{cert_request.pk}"
    response = HttpResponse(key_pem, content_type="application/x-pem-file")
    response["Content-Disposition"] = f'attachment; filename="{filename}.key"'
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@customer_required("manage_dns")
def certificate_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    cert_request = _request_for(request, pk)
    try:
        certificates.withdraw(request=cert_request, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The request is withdrawn."))
    return redirect(cert_request)


@require_POST
@customer_required("open_tickets")
def certificate_integration(request: HttpRequest, pk: int) -> HttpResponse:
    """Art. 5.1.2: open the integration ticket (annex 1) for this certificate."""
    cert_request = _request_for(request, pk)
    form = IntegrationForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the priority of the intervention."))
        return redirect(cert_request)
    try:
        ticket = certificates.open_integration_ticket(
            request=cert_request, by=request.user, priority=form.cleaned_data["priority"],
            notes=form.cleaned_data["notes"],
        )  # fmt: skip
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(cert_request)
    messages.success(request, _("Ticket %(number)s is open. We will answer you there.") % {"number": ticket.number})
    return redirect(ticket)


@customer_required("view")
def certificate_document(request: HttpRequest, pk: int, message_pk: int) -> FileResponse:
    message = get_scoped_or_404(request, CertificateRequestMessage, request_id=pk, pk=message_pk)
    if not message.document:
        raise Http404
    return FileResponse(
        message.document.open("rb"), as_attachment=True, filename=message.document_name or "document",
        content_type="application/octet-stream",
    )  # fmt: skip
