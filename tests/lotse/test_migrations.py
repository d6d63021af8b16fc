"""Migrations build the schema from nothing, and match the models exactly."""

import pytest
from sqlalchemy import inspect

from lotse import create_app
from lotse.extensions import db
from tests.conftest import base_config


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrate.sqlite3'}"
    return request.getfixturevalue("pg_database_factory")("migrate")


def test_upgrade_to_head_and_no_drift(empty_database, tmp_path):
    app = create_app(base_config(empty_database), instance_path=str(tmp_path))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade", "heads"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        tables = set(inspect(db.engine).get_table_names())
        assert {"staff_user", "department", "alembic_version"} <= tables
        assert set(db.metadata.tables) <= tables
    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        db.engine.dispose()
