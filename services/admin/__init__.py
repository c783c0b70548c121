"""The services admin, one module per area; importing them registers their ModelAdmins."""

from services.admin import services  # noqa: F401
from services.admin import jobs  # noqa: F401
