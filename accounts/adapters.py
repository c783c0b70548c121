from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.db import transaction

from accounts.invitations import invitation_from_token

INVITATION_SESSION_KEY = "portal_invitation_token"


class AccountAdapter(DefaultAccountAdapter):
    """Sign-up only with a valid invitation; e-mails go out through the Celery task."""

    def is_open_for_signup(self, request) -> bool:
        if settings.PORTAL_OPEN_SIGNUP:
            return True
        token = request.session.get(INVITATION_SESSION_KEY)
        if not token:
            return False
        try:
            invitation_from_token(token)
        except Exception:
            return False
        return True

    def send_mail(self, template_prefix, email, context):
        from portal import mail

        message = self.render_mail(template_prefix, email, context)
        html = next((body for body, mimetype in getattr(message, "alternatives", []) if mimetype == "text/html"), "")
        payload = {"to": list(message.to), "subject": message.subject, "text": message.body, "html": html}
        transaction.on_commit(lambda: mail.enqueue(**payload))  # survives a broker outage
