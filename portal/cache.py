"""The shared cache (Redis in production), tolerant of a Redis outage.

Django's RedisCache raises when Redis is unreachable, and the only users of the cache are
allauth's rate limits and TOTP replay checks: a 500 on every sign-in would follow. Here a read
misses and a write is dropped, with a warning, except ``add``: it answers False, so allauth's
rate-limit lock is not acquired and the sign-in is refused as rate limited, and a TOTP code
counts as used. Failing closed keeps the limits honest; signed-in people keep working.
"""

import logging

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


def _down(operation: str, error: Exception) -> None:
    logger.warning("Cache unavailable during %s (%s): carrying on without it", operation, error)


class TolerantRedisCache(RedisCache):
    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except RedisError as error:
            _down("get", error)
            return default

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except RedisError as error:
            _down("get_many", error)
            return {}

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except RedisError as error:
            _down("has_key", error)
            return False

    def add(self, key, value, timeout=None, version=None):
        try:
            return super().add(key, value, timeout, version)
        except RedisError as error:
            _down("add", error)
            return False  # fail closed: see the module's docstring

    def set(self, key, value, timeout=None, version=None):
        try:
            super().set(key, value, timeout, version)
        except RedisError as error:
            _down("set", error)

    def set_many(self, data, timeout=None, version=None):
        try:
            return super().set_many(data, timeout, version)
        except RedisError as error:
            _down("set_many", error)
            return list(data)

    def touch(self, key, timeout=None, version=None):
        try:
            return super().touch(key, timeout, version)
        except RedisError as error:
            _down("touch", error)
            return False

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except RedisError as error:
            _down("delete", error)
            return False

    def delete_many(self, keys, version=None):
        try:
            super().delete_many(keys, version)
        except RedisError as error:
            _down("delete_many", error)
