"""Administrative areas, management grids and coordinate systems."""
