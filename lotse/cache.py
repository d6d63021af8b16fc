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
from flask import current_app, has_app_context

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


# -- Generations: "has anything of this kind changed since the answer was kept?" ----------
#
# A kept answer that depends on data carries the data's generation in its key: a number
# that goes up once after every commit that wrote such data.  A new generation means new
# keys, so nothing stale is served after a write; old entries simply expire.  With Redis
# the number is shared by every web and worker process on every machine; without Redis it
# is this process's own (the embedded default is one process), and answers are kept only
# for their short lifetime.

_WATCHED: dict[type, str] = {}  # mapped class → generation name


def watch(name: str, *classes: type) -> None:
    """Bump generation ``name`` after each commit that inserted, changed or deleted rows
    of ``classes`` (through the ORM: ``session.add``/``delete``, changed attributes, and
    ORM ``update()``/``delete()`` statements)."""
    for cls in classes:
        _WATCHED[cls] = name


def _generations() -> dict[str, int]:
    return current_app.extensions.setdefault("lotse_generations", {})


def generation(name: str) -> int:
    """The current generation of ``name`` (0 before the first write anyone saw)."""
    client = get_redis()
    if client is not None:
        try:
            value = client.get(_generation_key(name))
        except redis.RedisError as exc:
            log.warning("cache unreachable, generation of %s unknown: %s", name, exc)
            return -1  # never a kept key: -1 is not stored under (see cached_for)
        return int(value or 0)
    return _generations().get(name, 0)


def bump(name: str) -> None:
    """A write to ``name``'s data was committed: answers kept for it are out of date."""
    client = get_redis()
    if client is not None:
        try:
            client.incr(_generation_key(name))
        except redis.RedisError as exc:
            log.warning("cache unreachable, generation of %s not bumped: %s", name, exc)
    generations = _generations()
    generations[name] = generations.get(name, 0) + 1


def _generation_key(name: str) -> str:
    return f"{current_app.config['RATELIMIT_KEY_PREFIX']}:generation:{name}"


def cached_for(name: str, key: str, seconds: int, build: Callable[[], bytes]) -> bytes:
    """``cached`` under the current generation of ``name``: a committed write of that data
    makes the next request build afresh."""
    current = generation(name)
    if current < 0:
        return build()
    return cached(f"{name}:{current}:{key}", seconds, build)


def _touched(session) -> set[str]:
    return session.info.setdefault("lotse_touched", set())


def _after_flush(session, _flush_context) -> None:
    if not _WATCHED:
        return
    for obj in (*session.new, *session.dirty, *session.deleted):
        name = _WATCHED.get(type(obj))
        if name is not None:
            _touched(session).add(name)


def _do_orm_execute(state) -> None:
    if (state.is_update or state.is_delete) and state.bind_mapper is not None:
        name = _WATCHED.get(state.bind_mapper.class_)
        if name is not None:
            _touched(state.session).add(name)


def _after_commit(session) -> None:
    names = session.info.pop("lotse_touched", None)
    if names and has_app_context():
        for name in names:
            bump(name)


def _after_rollback(session) -> None:
    session.info.pop("lotse_touched", None)


def init_app(app) -> None:  # noqa: ARG001 - one set of listeners for every app
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _do_orm_execute)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)
