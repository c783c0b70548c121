"""The services admin, one module per area; importing them registers their ModelAdmins."""

from services.admin import (
    certificates,  # noqa: F401
    dns,  # noqa: F401
    domains,  # noqa: F401
    hosting,  # noqa: F401
    jobs,  # noqa: F401
    m365,  # noqa: F401
    renewals,  # noqa: F401
    services,  # noqa: F401
)
