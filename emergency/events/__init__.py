"""Live events: committed changes announced to signed-in users (Server-Sent Events)."""
