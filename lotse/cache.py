"""Short-lived answers shared by all workers: Redis when configured, else this process.

For public answers that many clients ask for with the same query and that may be a few
seconds old, as a reverse proxy would keep them (Open311 lists polled by other systems).
Only what a builder returned is kept, never an error.  Keys carry the app's key prefix,
so towns (and test runs) sharing one Redis never see each other's answers.  When Redis
does not answer, the answer is built as if nothing were kept.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable

import redis
from flask import current_app

from lotse.queue import get_redis

log = logging.getLogger(__name__)

MEMORY_ENTRIES = 256  # per process; the oldest go first


def _memory() -> OrderedDict[str, tuple[float, bytes]]:
    return current_app.extensions.setdefault("lotse_cache", OrderedDict())


def cached(key: str, seconds: int, build: Callable[[], bytes]) -> bytes:
    """The bytes kept under ``key`` for at most ``seconds``, else ``build()``'s, kept."""
    if seconds <= 0:
        return build()
    full_key = f"{current_app.config['RATELIMIT_KEY_PREFIX']}:cache:{key}"
    client = get_redis()
    if client is None:
        return _cached_here(full_key, seconds, build)
    try:
        value = client.get(full_key)
    except redis.RedisError as exc:
        log.warning("cache unreachable, %s built afresh: %s", key, exc)
        return build()
    if value is not None:
        return value
    value = build()
    try:
        client.set(full_key, value, ex=seconds)
    except redis.RedisError as exc:
        log.warning("cache unreachable, %s not kept: %s", key, exc)
    return value


def _cached_here(key: str, seconds: int, build: Callable[[], bytes]) -> bytes:
    memory, now = _memory(), time.monotonic()
    entry = memory.get(key)
    if entry is not None and entry[0] > now:
        return entry[1]
    value = build()
    memory[key] = (now + seconds, value)
    memory.move_to_end(key)
    while len(memory) > MEMORY_ENTRIES:
        memory.popitem(last=False)
    return value
