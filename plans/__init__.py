"""Emergency plans: hierarchy, lifecycle and versions, tiered response criteria, drills."""
