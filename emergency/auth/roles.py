"""The six roles of the contract and the groups that permissions are written with."""

ADMIN = "admin"
PLANNER = "planner"
DISPATCHER = "dispatcher"
GRID_STAFF = "grid_staff"
ORG_ADMIN = "org_admin"
AUDITOR = "auditor"

ROLES = (ADMIN, PLANNER, DISPATCHER, GRID_STAFF, ORG_ADMIN, AUDITOR)
BUREAU = frozenset({ADMIN, PLANNER, DISPATCHER, AUDITOR})
EVERYONE = frozenset(ROLES)

ROLE_LABELS = {
    ADMIN: "Bureau administrator",
    PLANNER: "Planner",
    DISPATCHER: "Dispatcher",
    GRID_STAFF: "Grid staff",
    ORG_ADMIN: "Organisation administrator",
    AUDITOR: "Auditor",
}
