"""Buchung: halls and rooms booked by clubs and citizens."""

from flask import Flask


def init_app(app: Flask) -> None:
    from buchung.views import bp

    app.register_blueprint(bp)
