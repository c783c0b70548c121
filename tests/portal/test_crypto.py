import pytest

from portal import crypto


def test_a_secret_round_trips_and_is_not_stored_in_clear():
    token = crypto.encrypt("EPP-AUTH-1234")
    assert "EPP-AUTH-1234" not in token
    assert crypto.decrypt(token) == "EPP-AUTH-1234"


def test_keys_rotate_new_first_and_old_values_still_decrypt(settings):
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.PORTAL_ENCRYPTION_KEYS = [old]
    token = crypto.encrypt("secret")
    settings.PORTAL_ENCRYPTION_KEYS = [new, old]
    assert crypto.decrypt(token) == "secret"
    settings.PORTAL_ENCRYPTION_KEYS = [new]
    with pytest.raises(ValueError):
        crypto.decrypt(token)
