"""The certificate authority interface: one method per operation, the backend chosen in the settings.

``CERTIFICATE_AUTHORITY_BACKEND`` is the dotted path of a ``CertificateAuthority`` class (default:
the manual one). A backend speaking to a CA's API (ACME, a reseller API) implements the same
methods; ``services.certificates`` applies what they answer to the request (its state and
timeline), so a backend never writes the database itself.
"""

import abc
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

from services.models import Certificate, CertificateRequest

DEFAULT_BACKEND = "services.certificate_authority.ManualCertificateAuthority"


@dataclass(frozen=True)
class Outcome:
    """What the CA answered: the state the request moves to, and its words if it gave any."""

    status: str
    message: str = ""


class CertificateAuthority(abc.ABC):
    @abc.abstractmethod
    def submit(self, request: CertificateRequest) -> Outcome:
        """Send the request's CSR and names to the CA (art. 5.1.1)."""

    @abc.abstractmethod
    def cancel(self, request: CertificateRequest) -> bool:
        """Withdraw a request the CA has not decided yet; False when the work is left to staff."""

    @abc.abstractmethod
    def revoke(self, certificate: Certificate, reason: str) -> bool:
        """Ask the CA to revoke an issued certificate; False when the work is left to staff."""


class ManualCertificateAuthority(CertificateAuthority):
    """Manual fulfilment: nothing is sent anywhere and nothing pretends to be done.

    A request stays "requested" until staff have filed it with the CA and move it along in the
    admin (validating, information requested, rejected) or upload the issued certificate;
    cancelling and revoking answer False, so the caller knows that staff still have to do them.
    """

    def submit(self, request: CertificateRequest) -> Outcome:
        return Outcome(status=CertificateRequest.Status.REQUESTED)

    def cancel(self, request: CertificateRequest) -> bool:
        return False

    def revoke(self, certificate: Certificate, reason: str) -> bool:
        return False


def get_certificate_authority() -> CertificateAuthority:
    backend = getattr(settings, "CERTIFICATE_AUTHORITY_BACKEND", "") or DEFAULT_BACKEND
    return import_string(backend)()
