"""Count the SQL statements a request sends, to prove a list costs the same for any length."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import event

from lotse.extensions import db


@contextmanager
def count_statements(app: Flask) -> Iterator[list[str]]:
    """Collect every statement sent to ``app``'s database inside the ``with`` block."""
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def record(_conn, _cursor, statement, _params, _context, _executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def statements_for(client, app: Flask, url: str) -> list[str]:
    """The statements one GET of ``url`` sends; the answer must be a 200."""
    with count_statements(app) as statements:
        response = client.get(url)
        response.get_data()  # a streamed body queries while it is read
        response.close()
    assert response.status_code == 200, (url, response.status_code)
    return statements
