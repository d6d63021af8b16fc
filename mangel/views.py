"""Citizen pages of the Mängelmelder."""

from flask import Blueprint, render_template

bp = Blueprint("mangel", __name__, url_prefix="/maengel")


@bp.route("/")
def index():
    """Public overview of reported defects."""
    return render_template("mangel/index.html")
