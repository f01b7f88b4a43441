"""Who a job acts for: its owner's user record as it is when the job runs."""

from emergency.auth import service as auth
from emergency.errors import Forbidden


def active_owner(session, username):
    """The owner's user record now; a user deactivated since the job was queued may not."""
    user = auth.get_user(session, username)
    if not user.is_active:
        raise Forbidden(f"user {username} is no longer active")
    return user
