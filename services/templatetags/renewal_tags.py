from django import template

from services import renewals
from services.models import Service

register = template.Library()


@register.simple_tag
def renewal_state(service: Service) -> dict:
    """``{% renewal_state service as renewal %}``: see ``services.renewals.renewal_state``."""
    return renewals.renewal_state(service)
