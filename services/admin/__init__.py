"""The services admin, one module per area; importing them registers their ModelAdmins."""

from services.admin import services  # noqa: F401
