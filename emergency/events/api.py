"""The live event stream, ``GET /api/v1/events`` (Server-Sent Events)."""

from emergency.jsonbody import Blueprint

blp = Blueprint("events", __name__, url_prefix="/api/v1",
                description="Live events (Server-Sent Events) of committed changes")
