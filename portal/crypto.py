"""Secrets at rest (domain auth codes, private keys): Fernet with a key from the settings.

PORTAL_ENCRYPTION_KEYS is a comma-separated list of Fernet keys, newest first; rotation adds a
new key in front and keeps the old ones until every value is re-encrypted. Without it, one key
is derived from DJANGO_SECRET_KEY (fine for development; set a real key in production).
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


def _fernet() -> MultiFernet:
    keys = list(getattr(settings, "PORTAL_ENCRYPTION_KEYS", []) or [])
    if not keys:
        digest = hashlib.sha256(("portal-encryption:" + settings.SECRET_KEY).encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(key) for key in keys])


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode() if plain else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise ValueError("This secret cannot be decrypted with the configured keys.") from error
