"""HTML pages for requisitions and compensation claims."""

from flask import Blueprint

bp = Blueprint("claim_pages", __name__, template_folder="templates")

NAV = []
