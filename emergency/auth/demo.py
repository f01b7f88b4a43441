"""Demo accounts: one user per role, with passwords printed by `emergency demo load`."""

from sqlalchemy import select

from emergency.auth import service
from emergency.auth.models import User
from emergency.geo.demo import demo_grid_codes

# One demo account per role; passwords are printed by `emergency demo load`.
DEMO_USERS = [
    ("admin", "admin", "演示管理员"),
    ("planner", "planner", "演示预案员"),
    ("dispatcher", "dispatcher", "演示调度员"),
    ("gridstaff", "grid_staff", "演示网格员"),
    ("orgadmin", "org_admin", "演示队伍管理员"),
    ("auditor", "auditor", "演示审计员"),
]


def demo_password(username):
    """The demo password of a demo user (public on purpose: this is demonstration data)."""
    return f"demo-{username}-2026"


def load_users(session):
    """One demo user per role (kept if they exist); returns their credentials to print."""
    lines = ["demo users (user / password):"]
    for username, role, display in DEMO_USERS:
        if session.scalar(select(User.id).where(User.username == username)) is None:
            service.create_user(
                session, username, role, demo_password(username),
                grids=demo_grid_codes() if role == "grid_staff" else (),
                display_name=display)
        lines.append(f"  {username:<11} {demo_password(username):<24} ({role})")
    return lines
