"""The Microsoft interface: one method per operation, the backend chosen in the settings.

``MICROSOFT_BACKEND`` is the dotted path of a ``Microsoft`` class (default: the manual one). A
backend that talks to Microsoft's partner API implements the same methods; ``services.m365``
records every change as a ``LicenceChange`` and marks it done only when the backend says so, so
a backend never writes the database itself.
"""

import abc

from django.conf import settings
from django.utils.module_loading import import_string

from services.models import Service

DEFAULT_BACKEND = "services.microsoft.ManualMicrosoft"
# Microsoft's own admin centre, where the customer assigns licences to people (art. 6.1.3).
ADMIN_CENTRE_URL = "https://admin.microsoft.com"


class Microsoft(abc.ABC):
    @abc.abstractmethod
    def set_licence_count(self, service: Service, quantity: int) -> bool:
        """Make the pack's subscription count ``quantity`` licences (art. 6.1.5).
        True when Microsoft applied it, False when the work is left to staff."""

    @abc.abstractmethod
    def end_subscription(self, service: Service) -> bool:
        """End the pack's subscription (art. 6.3). True when done, False when left to staff."""


class ManualMicrosoft(Microsoft):
    """Manual fulfilment: nothing is sent anywhere and nothing pretends to be done.

    Every change stays "to do at Microsoft" in the admin until staff have applied it in
    Microsoft's partner centre and mark it "Done at Microsoft" (who and when are recorded).
    """

    def set_licence_count(self, service: Service, quantity: int) -> bool:
        return False

    def end_subscription(self, service: Service) -> bool:
        return False


def get_microsoft() -> Microsoft:
    backend = getattr(settings, "MICROSOFT_BACKEND", "") or DEFAULT_BACKEND
    return import_string(backend)()
