"""Public pages of the booking service."""

from flask import Blueprint, render_template

bp = Blueprint("buchung", __name__, url_prefix="/buchung")


@bp.route("/")
def index():
    """List of bookable halls and rooms."""
    return render_template("buchung/index.html")
