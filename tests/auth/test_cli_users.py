"""`emergency users update`: the operator's way to deactivate, re-role or reset a password
(e.g. when the only admin forgot theirs); it ends sessions and tokens like the API does."""

from emergency.auth import service
from tests.auth.auth_helpers import PASSWORD, sign_in


def test_deactivate_and_reset_password_from_the_command_line(runner, app, client, db, actors):
    actors.make("admin")
    user, token = actors.make("planner")
    name = user.username
    browser = app.test_client()
    assert sign_in(browser, name).status_code == 302
    db.commit()  # the command runs on the test's session and closes it, as a CLI run does
    result = runner.invoke(args=["users", "update", name, "--inactive"])
    assert result.exit_code == 0, result.output
    assert browser.get("/").status_code == 302
    assert client.get("/api/v1/plans", headers=token).status_code == 401
    result = runner.invoke(args=["users", "update", name, "--active",
                                 "--password", "a new long password"])
    assert result.exit_code == 0, result.output
    assert sign_in(browser, name, PASSWORD, "10.1.1.1").status_code == 401
    assert sign_in(browser, name, "a new long password").status_code == 302


def test_the_last_admin_stays_and_bad_input_is_refused(runner, db):
    service.create_user(db, "boss", "admin", PASSWORD)
    db.commit()  # the command runs on the test's session and closes it, as a CLI run does
    result = runner.invoke(args=["users", "update", "boss", "--role", "planner"])
    assert result.exit_code != 0 and "administrator" in result.output
    result = runner.invoke(args=["users", "update", "boss", "--password", "short"])
    assert result.exit_code != 0 and "password" in result.output
    result = runner.invoke(args=["users", "update", "nobody", "--inactive"])
    assert result.exit_code != 0
