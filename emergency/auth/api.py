"""JSON API of user accounts (admin only); every change lands in the audit log."""

from emergency.auth import schemas, service
from emergency.auth.permissions import actor, allow
from emergency.auth.roles import ADMIN
from emergency.db import get_session
from emergency.jsonbody import Blueprint
from emergency.schemas import items_schema

blp = Blueprint("users", __name__, url_prefix="/api/v1", description="User accounts")


@blp.route("/users", methods=["GET"])
@allow(ADMIN)
@blp.arguments(schemas.UserQuery, location="query")
@blp.response(200, items_schema(schemas.UserOut, "UserList"))
def list_users(query):
    """Users by name (filters q, role, active)."""
    users, total = service.list_users(get_session(), **query)
    return {"items": [service.user_record(u) for u in users], "total": total}


@blp.route("/users", methods=["POST"])
@allow(ADMIN)
@blp.arguments(schemas.UserIn)
@blp.response(201, schemas.UserOut)
def create_user(body):
    """Create a user with a role and its scopes."""
    user = service.create_user(get_session(), body["username"], body["role"], body["password"],
                               body.get("grid_codes") or (), body.get("org_id"),
                               body.get("area_code"), body.get("display_name", ""))
    return service.user_record(user)


@blp.route("/users/<int:user_id>", methods=["GET"])
@allow(ADMIN)
@blp.response(200, schemas.UserOut)
def get_user(user_id):
    """One user."""
    return service.user_record(service.get_user_by_id(get_session(), user_id))


@blp.route("/users/<int:user_id>", methods=["PATCH"])
@allow(ADMIN)
@blp.arguments(schemas.UserPatch)
@blp.response(200, schemas.UserOut)
def update_user(body, user_id):
    """Change role, state (active), scopes, display name or password. An admin cannot
    deactivate themselves, and the last active admin stays; deactivation, a role change and a
    new password end the user's sessions and tokens at once."""
    return service.user_record(service.update_user(get_session(), user_id, actor(), **body))
