"""Registry of social rescue forces: organisations, teams, members, insurance, training."""
