"""Choosing one of a customer's services in a form, cheaply enough for a customer with hundreds."""

from django import forms
from django.forms.models import ModelChoiceIterator
from django.forms.utils import flatatt
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

from services.models import Kind


class _ColumnsIterator(ModelChoiceIterator):
    """Options read from three columns: no model instance, no plan row, per option."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        labels = {kind: str(label) for kind, label in Kind.choices}  # translated once, not per option
        for pk, name, kind in self.queryset.values_list("pk", "name", "plan__kind"):
            yield (pk, f"{name} ({labels.get(kind, kind)})")


class _QuickSelect(forms.Select):
    """The same HTML as Django's select, written in Python: one template include per option costs
    more than the rest of a page when a customer has hundreds of services."""

    def render(self, name, value, attrs=None, renderer=None):
        chosen = {str(v) for v in self.format_value(value)}
        options = "".join(
            f'<option value="{escape(key)}"{" selected" if str(key) in chosen else ""}>{escape(label)}</option>'
            for key, label in self.choices
        )
        attrs = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        safe = mark_safe(options)  # noqa: S308  # nosec B308 B703 - every key and label is escaped above
        return format_html("<select{}>{}</select>", flatatt(attrs), safe)


class ServiceChoiceField(forms.ModelChoiceField):
    """A select of services labelled "name (kind)", like ``str(service)``; the chosen value is
    still looked up (and so scoped) through the field's queryset."""

    iterator = _ColumnsIterator
    widget = _QuickSelect
