from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServicesConfig(AppConfig):
    name = "services"
    verbose_name = _("Services")

    def ready(self) -> None:
        from billing.payments import PAID_HOOKS
        from services.renewals import on_invoice_paid

        # Paying a renewal invoice extends its period at once (issue 7); registered once.
        if on_invoice_paid not in PAID_HOOKS:
            PAID_HOOKS.append(on_invoice_paid)
