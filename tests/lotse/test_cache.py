"""Kept answers follow the data: a committed write makes the next request build afresh."""

from __future__ import annotations

import pytest

from lotse import cache
from lotse.extensions import db
from lotse.models import Department


@pytest.fixture
def watched_departments():
    cache.watch("test-departments", Department)
    yield
    cache._WATCHED.pop(Department, None)


@pytest.mark.parametrize("with_redis", [False, True], ids=["process", "redis"])
def test_a_committed_write_and_only_that_renews_the_kept_answer(
    make_app, redis_url, watched_departments, with_redis
):
    app = make_app(**({"REDIS_URL": redis_url} if with_redis else {}))
    built = []

    def answer():
        return cache.cached_for("test-departments", "names", 60, lambda: _build(built))

    with app.app_context():
        assert answer() == b"0" and answer() == b"0"  # built once, then kept
        department = Department(name="Tiefbau", email="tiefbau@example.org")
        db.session.add(department)
        db.session.flush()
        db.session.rollback()  # nothing written: the kept answer stands
        assert answer() == b"0"
        db.session.add(Department(name="Tiefbau", email="tiefbau@example.org"))
        db.session.commit()
        assert answer() == b"1"  # the new department is in the next answer
        db.session.execute(db.update(Department).values(name="Straßenbau"))
        db.session.commit()
        assert answer() == b"2"  # a bulk ORM update counts too
        assert len(built) == 3


def _build(built: list) -> bytes:
    built.append(1)
    return str(len(built) - 1).encode()


def test_an_unreachable_redis_builds_every_time(make_app, watched_departments):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0")
    with app.app_context():
        assert cache.cached_for("test-departments", "k", 60, lambda: b"a") == b"a"
        assert cache.cached_for("test-departments", "k", 60, lambda: b"b") == b"b"


@pytest.fixture
def departments_by_name():
    """Each department's answers apart: a write bumps the generations of its old and new name."""
    from sqlalchemy.orm.attributes import get_history

    cache.watch_rows(
        Department,
        lambda d: {f"test-department:{name}" for name in get_history(d, "name").sum()},
        "test-department-all",
    )
    yield
    cache._ROWS.pop(Department, None)


def test_a_row_write_bumps_the_generations_of_its_old_and_new_values(
    make_app, redis_url, departments_by_name
):
    app = make_app(REDIS_URL=redis_url)
    names = [f"test-department:{n}" for n in ("Tiefbau", "Straßenbau", "Grün")]
    names.append("test-department-all")
    with app.app_context():
        db.session.add(Department(name="Tiefbau", email="tiefbau@example.org"))
        db.session.add(Department(name="Grün", email="gruen@example.org"))
        db.session.commit()
        start = cache.generations(names)
        tiefbau = db.session.scalar(db.select(Department).filter_by(name="Tiefbau"))
        tiefbau.name = "Straßenbau"
        db.session.commit()
        assert cache.generations(names) == [start[0] + 1, start[1] + 1, start[2], start[3]]
        db.session.execute(db.update(Department).values(email="amt@example.org"))
        db.session.commit()  # a bulk statement names no rows: the fallback
        assert cache.generations(names) == [start[0] + 1, start[1] + 1, start[2], start[3] + 1]
