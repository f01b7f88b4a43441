"""Accounts, roles and scopes, sign-in, API tokens, and the one-line permission checks."""
