"""The audit log: every change and every reveal of personal data, append-only."""
