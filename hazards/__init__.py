"""Hazard reports by community grid staff: reporting, photos, workflow, deadlines, bulletins."""
