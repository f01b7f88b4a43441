"""Input validation and output shapes of the Users API."""

from marshmallow import Schema, fields, validate

from emergency.auth.roles import ROLES
from emergency.schemas import PageQuery

USERNAME = validate.Regexp(r"^[A-Za-z0-9_.\-]{2,64}$",
                           error="2-64 letters, digits, '_', '.' or '-'")
GRID_CODES = fields.List(fields.String(validate=validate.Length(1, 32)),
                         validate=validate.Length(0, 200))
AREA_CODE = validate.Regexp(r"^[0-9]{2,12}$")


class UserIn(Schema):
    """Body of POST /users."""

    username = fields.String(required=True, validate=USERNAME, metadata={"example": "li.si"})
    password = fields.String(required=True, load_only=True,
                             validate=validate.Length(8, 1024),
                             metadata={"description": "at least 8 characters"})
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    display_name = fields.String(load_default="", validate=validate.Length(0, 100))
    grid_codes = GRID_CODES
    org_id = fields.Integer(allow_none=True, strict=True,
                            validate=validate.Range(1, 2**31 - 1))
    area_code = fields.String(allow_none=True, validate=AREA_CODE)


class UserPatch(Schema):
    """Body of PATCH /users/{id}: any of these; a new password, role or deactivation ends
    the user's sessions and tokens at once."""

    role = fields.String(validate=validate.OneOf(ROLES))
    active = fields.Boolean(truthy={True}, falsy={False})
    display_name = fields.String(validate=validate.Length(0, 100))
    password = fields.String(load_only=True, validate=validate.Length(8, 1024))
    grid_codes = GRID_CODES
    org_id = fields.Integer(allow_none=True, strict=True,
                            validate=validate.Range(1, 2**31 - 1))
    area_code = fields.String(allow_none=True, validate=AREA_CODE)


class UserOut(Schema):
    """A user as returned (never the password)."""

    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    role = fields.String()
    active = fields.Boolean()
    grid_codes = fields.List(fields.String())
    org_id = fields.Integer(allow_none=True)
    area_code = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()


class UserQuery(PageQuery):
    """Filters of GET /users."""

    q = fields.String(validate=validate.Length(1, 64),
                      metadata={"description": "part of the user name or display name"})
    role = fields.String(validate=validate.OneOf(ROLES))
    active = fields.Boolean()
