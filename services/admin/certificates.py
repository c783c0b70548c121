"""Certificate requests in the admin: staff fulfil them by hand (the manual CA backend).

The change page is read-only; its three actions (set the status with a message, install the issued
certificate, record a revocation) are small forms that call ``services.certificates``, so the
timeline, the e-mails and the contract follow exactly as they do for customers.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.admin_site import CustomerFilter, ReadOnlyAdminMixin, ReadOnlyInline, linked_customer
from services import certificates
from services.admin.timeline import TimelineInline
from services.models import Certificate, CertificateRequest, CertificateRequestMessage

Status = CertificateRequest.Status
MAX_UPLOAD_BYTES = 256 * 1024


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("Status"))
    message = forms.CharField(
        label=gettext_lazy("Message to the customer"), required=False, widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy("Required for “information requested” (what the CA needs) and “rejected” (why)."),
    )  # fmt: skip
    document = forms.FileField(label=gettext_lazy("Document"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [(s.value, s.label) for s in Status if s in certificates.STAFF_STATUSES]


class InstallForm(forms.Form):
    pem = forms.CharField(label=gettext_lazy("Certificate (PEM)"), required=False, widget=forms.Textarea)
    pem_file = forms.FileField(label=gettext_lazy("or its file"), required=False)
    chain = forms.CharField(
        label=gettext_lazy("Intermediate certificates (PEM)"), required=False, widget=forms.Textarea
    )

    def clean(self):
        data = super().clean()
        upload = data.get("pem_file")
        if upload is not None:
            if upload.size > MAX_UPLOAD_BYTES:
                self.add_error("pem_file", _("This file is too large for a certificate."))
            else:
                data["pem"] = upload.read()
        return data


class RevocationForm(forms.Form):
    customer_fault = forms.TypedChoiceField(
        label=gettext_lazy("Whose fault?"), coerce=lambda value: value == "yes", widget=forms.RadioSelect,
        choices=[
            ("no", gettext_lazy("Not the customer's: open the replacement request (art. 5.1.1)")),
            ("yes", gettext_lazy("The customer's: no replacement")),
        ],
    )  # fmt: skip
    reason = forms.CharField(label=gettext_lazy("Reason given by the CA"), widget=forms.Textarea(attrs={"rows": 3}))


class CertificateTimelineInline(TimelineInline):
    model = CertificateRequestMessage
    statuses = Status
    document_url_name = "admin:services_certificaterequest_document"


class CertificateInline(ReadOnlyInline):
    model = Certificate
    fields = ["serial_number", "names", "not_before", "not_after", "uploaded_by", "revoked_at"]
    readonly_fields = fields
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by")


@admin.register(CertificateRequest)
class CertificateRequestAdmin(admin.ModelAdmin):
    customer_link = linked_customer()
    list_display = ["__str__", "customer_link", "status", "key_source", "created_at", "expires"]
    list_filter = [CustomerFilter, "status", "key_source", "plan"]
    list_select_related = ["customer"]
    search_fields = ["names", "customer__name"]
    date_hierarchy = "created_at"
    fields = [
        "customer_link", "names_list", "status", "staff_actions", "plan", "key_source", "key_downloaded_at",
        "replaces", "service", "requested_by", "created_at", "csr_pem",
    ]  # fmt: skip
    readonly_fields = fields
    inlines = [CertificateInline, CertificateTimelineInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(expires_at=Max("certificates__not_after"))

    def has_add_permission(self, request) -> bool:
        return False  # customers request certificates (certificates.request_certificate makes the key and CSR)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a request is history

    @admin.display(description=gettext_lazy("expires"), ordering="expires_at")
    def expires(self, obj: CertificateRequest):
        return obj.expires_at

    @admin.display(description=gettext_lazy("names"))
    def names_list(self, obj: CertificateRequest) -> str:
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((n,) for n in obj.names)))

    @admin.display(description=gettext_lazy("what to do"))
    def staff_actions(self, obj: CertificateRequest) -> str:
        links = []
        if obj.status in certificates.OPEN_STATUSES:
            links.append((reverse("admin:services_certificaterequest_status", args=[obj.pk]), _("Set the status")))
            if obj.csr_pem:
                links.append(
                    (reverse("admin:services_certificaterequest_install", args=[obj.pk]), _("Install the certificate"))
                )
        else:
            links.append((reverse("admin:services_certificaterequest_status", args=[obj.pk]), _("Add a message")))
        if obj.status == Status.ISSUED:
            links.append(
                (reverse("admin:services_certificaterequest_revocation", args=[obj.pk]), _("Record a revocation"))
            )
        return format_html_join(" · ", '<a href="{}">{}</a>', links)

    # The actions, each a small page that calls one function of services.certificates

    def get_urls(self):
        def view(function):
            return self.admin_site.admin_view(function)

        return [
            path("<int:pk>/status/", view(self.status_view), name="services_certificaterequest_status"),
            path("<int:pk>/install/", view(self.install_view), name="services_certificaterequest_install"),
            path("<int:pk>/revocation/", view(self.revocation_view), name="services_certificaterequest_revocation"),
            path(
                "<int:pk>/documents/<int:message_pk>/",
                view(self.document_view),
                name="services_certificaterequest_document",
            ),
            *super().get_urls(),
        ]

    def _request(self, request: HttpRequest, pk: int, *, change: bool = True) -> CertificateRequest:
        obj = get_object_or_404(CertificateRequest.objects.select_related("customer"), pk=pk)
        allowed = self.has_change_permission(request, obj) if change else self.has_view_permission(request, obj)
        if not allowed:
            raise PermissionDenied
        return obj

    def _page(self, request: HttpRequest, obj: CertificateRequest, form: forms.Form, title: str, **extra):
        context = {
            **self.admin_site.each_context(request), "opts": self.model._meta, "original": obj, "form": form,
            "title": title, **extra,
        }  # fmt: skip
        return TemplateResponse(request, "services/certificate_admin_action.html", context)

    def _run(self, request: HttpRequest, obj: CertificateRequest, form: forms.Form, action, done: str):
        """Call ``action``; its ``ValidationError`` lands on the form's fields; success goes back to the page."""
        try:
            action()
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, errors in error.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, error)
            return None
        self.message_user(request, done, messages.SUCCESS)
        return redirect("admin:services_certificaterequest_change", obj.pk)

    def status_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = self._request(request, pk)
        form = StatusForm(request.POST or None, request.FILES or None, initial={"status": obj.status})
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data

            def action():
                certificates.set_status(
                    request=obj, status=data["status"], by=request.user, message=data["message"],
                    document=data["document"],
                )  # fmt: skip

            done = _("The request is updated and the customer is told.")
            if response := self._run(request, obj, form, action, done):
                return response
        title = _("Set the status of %(request)s") % {"request": obj}
        return self._page(request, obj, form, title, multipart=True)

    def install_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = self._request(request, pk)
        form = InstallForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data

            def action():
                certificates.install_certificate(request=obj, pem=data["pem"], chain=data["chain"], by=request.user)

            done = _("The certificate is installed; the request is issued and its contract runs until it expires.")
            if response := self._run(request, obj, form, action, done):
                return response
        title = _("Install the certificate of %(request)s") % {"request": obj}
        return self._page(request, obj, form, title, multipart=True)

    def revocation_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = self._request(request, pk)
        certificate = obj.certificates.filter(revoked_at__isnull=True).order_by("-uploaded_at", "-pk").first()
        if certificate is None:
            raise Http404
        form = RevocationForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data

            def action():
                certificates.record_revocation(
                    certificate=certificate, by=request.user, customer_fault=data["customer_fault"],
                    reason=data["reason"],
                )  # fmt: skip

            done = _("The revocation is recorded and the customer is told.")
            if response := self._run(request, obj, form, action, done):
                return response
        title = _("Record the revocation of %(request)s") % {"request": obj}
        return self._page(request, obj, form, title, certificate=certificate)

    def document_view(self, request: HttpRequest, pk: int, message_pk: int) -> FileResponse:
        self._request(request, pk, change=False)
        message = get_object_or_404(CertificateRequestMessage, request_id=pk, pk=message_pk)
        if not message.document:
            raise Http404
        return FileResponse(
            message.document.open("rb"), as_attachment=True, filename=message.document_name or "document",
            content_type="application/octet-stream",
        )  # fmt: skip


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Issued certificates, read-only: they change only through the request's actions."""

    customer_link = linked_customer("request__customer")
    list_display = ["__str__", "customer_link", "serial_number", "not_after", "revoked_at"]
    list_filter = [CustomerFilter, "key_type", ("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["request__customer"]
    search_fields = ["names", "serial_number", "subject", "request__customer__name"]
    date_hierarchy = "not_after"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("request__customer", "uploaded_by")
