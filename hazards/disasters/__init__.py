"""Direct disaster reports (灾情直报): grid staff report disaster losses from their grids."""
