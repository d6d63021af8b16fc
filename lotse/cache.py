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
from collections.abc import Callable, Iterable, Sequence

import redis
from flask import current_app, has_app_context, session

from lotse.queue import get_redis

log = logging.getLogger(__name__)

MEMORY_BYTES = 32 * 1024 * 1024  # per process, for copies of kept answers; the oldest go first


def _memory() -> OrderedDict[str, tuple[float, bytes]]:
    return current_app.extensions.setdefault("lotse_cache", OrderedDict())


def cached(key: str, seconds: int, build: Callable[[], bytes]) -> bytes:
    """The bytes kept under ``key`` for at most ``seconds``, else ``build()``'s, kept.

    With Redis the answer is shared by every process; each process also holds a copy until
    the shared one expires, so a popular answer does not cross the network per request.
    """
    if seconds <= 0:
        return build()
    full_key = f"{current_app.config['RATELIMIT_KEY_PREFIX']}:cache:{key}"
    now = time.monotonic()
    entry = _memory().get(full_key)
    if entry is not None and entry[0] > now:
        return entry[1]
    client = get_redis()
    if client is None:
        value = build()
        _keep_here(full_key, now + seconds, value)
        return value
    try:
        pipe = client.pipeline(transaction=False)
        pipe.get(full_key)
        pipe.pttl(full_key)
        value, left_ms = pipe.execute()
    except redis.RedisError as exc:
        log.warning("cache unreachable, %s built afresh: %s", key, exc)
        return build()
    if value is not None:
        if left_ms and left_ms > 0:
            _keep_here(full_key, now + left_ms / 1000, value)
        return value
    value = build()
    try:
        client.set(full_key, value, ex=seconds)
    except redis.RedisError as exc:
        log.warning("cache unreachable, %s not kept: %s", key, exc)
        return value
    _keep_here(full_key, now + seconds, value)
    return value


def _keep_here(key: str, until: float, value: bytes) -> None:
    """This process's copy, within a byte budget (least recently kept go first)."""
    memory = _memory()
    sizes = current_app.extensions.setdefault("lotse_cache_bytes", [0])
    old = memory.pop(key, None)
    if old is not None:
        sizes[0] -= len(old[1])
    if len(value) > MEMORY_BYTES // 16:
        return  # too big to hold in every process
    memory[key] = (until, value)
    sizes[0] += len(value)
    while sizes[0] > MEMORY_BYTES and memory:
        _key, (_until, dropped) = memory.popitem(last=False)
        sizes[0] -= len(dropped)


# -- Generations: "has anything of this kind changed since the answer was kept?" ----------
#
# A kept answer that depends on data carries the data's generation in its key: a number
# that goes up once after every commit that wrote such data.  A new generation means new
# keys, so nothing stale is served after a write; old entries simply expire.  With Redis
# the number is shared by every web and worker process on every machine; without Redis it
# is this process's own (the embedded default is one process), and answers are kept only
# for their short lifetime.

_WATCHED: dict[type, set[str]] = {}  # mapped class → the generations its writes bump
# mapped class → (the generations one written object bumps, those a bulk statement bumps)
_ROWS: dict[type, tuple[Callable[[object], Iterable[str]], tuple[str, ...]]] = {}


def watch(name: str, *classes: type) -> None:
    """Bump generation ``name`` after each commit that inserted, changed or deleted rows
    of ``classes`` (through the ORM: ``session.add``/``delete``, changed attributes, and
    ORM ``update()``/``delete()`` statements)."""
    for cls in classes:
        _WATCHED.setdefault(cls, set()).add(name)


def watch_rows(cls: type, names_of: Callable[[object], Iterable[str]], *fallback: str) -> None:
    """Bump, after each commit that wrote objects of ``cls``, the generations
    ``names_of(obj)`` names for each object inserted, changed or deleted: answers about one
    part of the data (a street's map) stay kept while another part is written.

    ``names_of`` is called in ``after_flush``, where
    ``sqlalchemy.orm.attributes.get_history(obj, name)`` still holds the value before the
    change: name the generations of the old value too (a pin moved away from a street).
    ORM ``insert()``/``update()``/``delete()`` statements of ``cls`` name no objects: they
    bump the ``fallback`` generations, which must cover every answer ``names_of`` could
    name.  Writes past the ORM (Core statements, bulk loads) bump nothing: call ``bump``.
    """
    _ROWS[cls] = (names_of, fallback)


def _generations() -> dict[str, int]:
    return current_app.extensions.setdefault("lotse_generations", {})


def generation(name: str) -> int:
    """The current generation of ``name`` (0 before the first write anyone saw; -1 when
    Redis does not answer)."""
    return generations([name])[0]


def generations(names: Sequence[str]) -> list[int]:
    """The current generations of ``names``, read at once (one Redis round trip);
    all ``-1`` when Redis does not answer."""
    client = get_redis()
    if client is not None:
        try:
            values = client.mget([_generation_key(name) for name in names])
        except redis.RedisError as exc:
            log.warning("cache unreachable, generations of %s unknown: %s", names[0], exc)
            return [-1] * len(names)
        return [int(value or 0) for value in values]
    known = _generations()
    return [known.get(name, 0) for name in names]


def bump(*names: str) -> None:
    """A write to the data of ``names`` was committed: answers kept for it are out of date."""
    client = get_redis()
    if client is not None:
        try:
            pipe = client.pipeline(transaction=False)
            for name in names:
                pipe.incr(_generation_key(name))
            pipe.execute()
        except redis.RedisError as exc:
            log.warning("cache unreachable, generations of %s not bumped: %s", names, exc)
    known = _generations()
    for name in names:
        known[name] = known.get(name, 0) + 1


def _generation_key(name: str) -> str:
    return f"{current_app.config['RATELIMIT_KEY_PREFIX']}:generation:{name}"


def cached_for(name: str, key: str, seconds: int, build: Callable[[], bytes]) -> bytes:
    """``cached`` under the current generation of ``name``: a committed write of that data
    makes the next request build afresh."""
    return cached_for_all([name], key, seconds, build)


def cached_for_all(
    names: Sequence[str], key: str, seconds: int, build: Callable[[], bytes]
) -> bytes:
    """``cached`` under the current generations of all ``names`` (at most a few dozen): a
    committed write of any of them makes the next request build afresh.  ``key`` must
    determine ``names``, as only their generations are added to it."""
    current = generations(names)
    if min(current, default=0) < 0:
        return build()
    numbers = ".".join(map(str, current))
    return cached(f"{names[0]}:{numbers}:{key}", seconds, build)


class _VisitorsOwn(Exception):  # noqa: N818 - not an error: a page that is not kept
    def __init__(self, page: bytes):
        super().__init__()
        self.page = page


def cached_page_for(name: str, key: str, seconds: int, build: Callable[[], bytes]) -> bytes:
    """``cached_for`` of a page rendered for a visitor without a session: a page whose
    rendering started a session (a form token, a flash) is that visitor's own — answered,
    never kept."""

    def built() -> bytes:
        page = build()
        if session.modified or session:
            raise _VisitorsOwn(page)
        return page

    try:
        return cached_for(name, key, seconds, built)
    except _VisitorsOwn as own:
        return own.page


def _touched(session) -> set[str]:
    return session.info.setdefault("lotse_touched", set())


def _after_flush(session, _flush_context) -> None:
    if not (_WATCHED or _ROWS):
        return
    for obj in (*session.new, *session.dirty, *session.deleted):
        names = _WATCHED.get(type(obj))
        if names:
            _touched(session).update(names)
        rows = _ROWS.get(type(obj))
        if rows:
            _touched(session).update(rows[0](obj))


def _do_orm_execute(state) -> None:
    if (state.is_insert or state.is_update or state.is_delete) and state.bind_mapper:
        cls = state.bind_mapper.class_
        names = _WATCHED.get(cls, set()) | set(_ROWS.get(cls, ((), ()))[1])
        if names:
            _touched(state.session).update(names)


def _after_commit(session) -> None:
    names = session.info.pop("lotse_touched", None)
    if names and has_app_context():
        bump(*sorted(names))


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
