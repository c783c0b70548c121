"""The domain registry interface: one method per operation, the backend chosen in the settings.

``DOMAIN_REGISTRY_BACKEND`` is the dotted path of a ``Registry`` class (default: the manual one).
An EPP backend implements the same methods; ``services.domains`` applies what they answer to the
request (its state and timeline), so a backend never writes the database itself.
"""

import abc
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

from services.models import DomainRequest, Service

DEFAULT_BACKEND = "services.registry.ManualRegistry"


@dataclass(frozen=True)
class Outcome:
    """What the registry answered: the state the request moves to, and its words if it gave any."""

    status: str
    message: str = ""


class Registry(abc.ABC):
    @abc.abstractmethod
    def register(self, request: DomainRequest) -> Outcome:
        """File a new registration (art. 4.2.1)."""

    @abc.abstractmethod
    def transfer(self, request: DomainRequest, auth_code: str) -> Outcome:
        """Move a domain from another registrar to us with its auth code; the owner stays."""

    @abc.abstractmethod
    def trade(self, request: DomainRequest) -> Outcome:
        """Change the domain's owner to the customer (request.new_owner holds the details, art. 4.2.2)."""

    @abc.abstractmethod
    def set_nameservers(self, domain: str, nameservers: Sequence[str]) -> bool:
        """Point the domain at these nameservers; False when the work is left to staff."""

    @abc.abstractmethod
    def renew(self, service: Service, years: int) -> bool:
        """Renew the domain for whole years (art. 4.4.1); False when the work is left to staff."""


class ManualRegistry(Registry):
    """Manual fulfilment: nothing is sent anywhere and nothing pretends to be done.

    Requests wait "pending at the registry" in the admin until staff have filed them with the
    registry and complete or reject them there; nameserver changes and renewals answer False,
    so the caller knows that staff still have to do them.
    """

    def _leave_to_staff(self) -> Outcome:
        return Outcome(status=DomainRequest.Status.PENDING_REGISTRY)

    def register(self, request: DomainRequest) -> Outcome:
        return self._leave_to_staff()

    def transfer(self, request: DomainRequest, auth_code: str) -> Outcome:
        return self._leave_to_staff()

    def trade(self, request: DomainRequest) -> Outcome:
        return self._leave_to_staff()

    def set_nameservers(self, domain: str, nameservers: Sequence[str]) -> bool:
        return False

    def renew(self, service: Service, years: int) -> bool:
        return False


def get_registry() -> Registry:
    backend = getattr(settings, "DOMAIN_REGISTRY_BACKEND", "") or DEFAULT_BACKEND
    return import_string(backend)()
