"""/healthz tells a load balancer whether database and queue work."""

import pytest

from lotse import create_app
from tests.conftest import base_config


@pytest.mark.both_dbs
def test_healthy_embedded(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {
        "status": "ok",
        "database": {"ok": True},
        "queue": {"ok": True, "mode": "inline"},
    }


def broken_app(tmp_path, url, **overrides):
    return create_app(base_config(url, **overrides), instance_path=str(tmp_path))


def test_broken_database_is_503(tmp_path):
    app = broken_app(tmp_path, f"sqlite:///{tmp_path}/missing/dir/x.db")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"]["ok"] is False


def test_unreachable_postgres_is_503(tmp_path):
    app = broken_app(
        tmp_path,
        "postgresql+psycopg://postgres@127.0.0.1:1/none",
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 2}},
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"]["ok"] is False


def test_healthy_with_redis(make_app, redis_url):
    app = make_app(REDIS_URL=redis_url)
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json["queue"]["mode"] == "rq"


def test_dead_redis_is_503(make_app):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["queue"] == {"ok": False, "mode": "rq", "error": "ConnectionError"}
