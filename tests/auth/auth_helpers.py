"""Helpers for the account tests: sign in through the real form from a chosen address."""

import re

PASSWORD = "correct horse battery"


def csrf_of(client, path="/login"):
    """The CSRF token of a page's form (or its meta tag)."""
    html = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(
        r'name="csrf-token" content="([^"]+)"', html)
    return found.group(1)


def sign_in(client, username, password=PASSWORD, addr="127.0.0.1"):
    """POST the sign-in form from ``addr``; returns the response."""
    token = csrf_of(client)
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token},
                       environ_base={"REMOTE_ADDR": addr})


def sign_out(client):
    """POST the sign-out form with the page's CSRF token."""
    return client.post("/logout", data={"csrf_token": csrf_of(client, "/")})
