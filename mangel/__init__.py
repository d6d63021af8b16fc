"""Mängelmelder: citizens report defects, staff work them."""

from flask import Flask


def init_app(app: Flask) -> None:
    from mangel.views import bp

    app.register_blueprint(bp)
