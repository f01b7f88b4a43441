"""HTTP adapters of the maps package (kept apart from the pure builders in maps/*.py)."""
