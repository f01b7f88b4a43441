"""Incident information reports (首报/续报/终报): the initial report due after an incident is
opened, follow-ups, the final report, and their printable pages."""
