from django import forms
from django.utils.translation import gettext_lazy as _

from services.choices import ServiceChoiceField
from support import access
from support.models import InterventionType, Kind, Priority, Status


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is checked by support.attachments when the ticket is saved."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


class ReasonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: InterventionType) -> str:
        return f"{obj.display_label} ({obj.get_kind_display()})"


class TicketForm(forms.Form):
    service = ServiceChoiceField(
        label=_("Service"), queryset=None, required=False, empty_label=_("No particular service")
    )
    reason = ReasonChoiceField(label=_("Reason"), queryset=None, empty_label=_("Choose a reason"))
    priority = forms.ChoiceField(
        label=_("Priority"), choices=Priority.choices, initial=Priority.STANDARD, widget=forms.RadioSelect
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 6}))
    files = MultipleFileField(label=_("Attachments"))

    def __init__(self, *args, services, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = services
        self.fields["reason"].queryset = reasons_for(self._value("service"), services)

    def _value(self, name: str):
        return (self.data.get(name) if self.is_bound else self.initial.get(name)) or ""

    def selected_service(self):
        value = self._value("service")
        return self.fields["service"].queryset.filter(pk=value).first() if str(value).isdecimal() else None


def reasons_for(service_id, services):
    """The reasons offered for the chosen service (all offered reasons without one)."""
    reasons = InterventionType.objects.active()
    service = services.filter(pk=service_id).select_related("plan").first() if str(service_id).isdecimal() else None
    if service is not None:
        reasons = reasons.for_service_kind(service.plan.kind)
    return reasons


class RemarkForm(forms.Form):
    body = forms.CharField(label=_("Your remark"), widget=forms.Textarea(attrs={"rows": 4}))
    files = MultipleFileField(label=_("Attachments"))


class TicketFilterForm(forms.Form):
    STATUS_CHOICES = [("", _("Open")), ("all", _("All")), *Status.choices]

    q = forms.CharField(label=_("Search"), required=False)
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", _("All kinds")), *Kind.choices], required=False)
    service = ServiceChoiceField(label=_("Service"), queryset=None, required=False, empty_label=_("All services"))

    def __init__(self, *args, services, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = services


class AccessGrantForm(forms.Form):
    duration = forms.ChoiceField(
        label=_("For how long"),
        choices=[("1d", _("One day")), ("7d", _("One week")), ("30d", _("30 days"))],
        initial="1d",
    )

    def clean_duration(self):
        value = self.cleaned_data["duration"]
        if value not in access.DURATIONS:
            raise forms.ValidationError(_("Choose one of the durations offered."))
        return value
