"""HTML pages of an organisation's dispatch inbox."""

from flask import Blueprint

bp = Blueprint("inbox_pages", __name__, template_folder="templates")

NAV = []
