"""Pages for organisations answering dispatches: the inbox, members, check-ins on scene."""
