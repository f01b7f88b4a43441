"""Emergency management platform: plans, risk, hazards, rescue forces and dispatch on a map."""


def create_app(test_config=None):
    """Create and configure the application (built in emergency.app)."""
    # Imported here, not at the top: every module of the platform imports this package, and
    # the application imports every module; a top-level import would make that a cycle.
    from emergency.app import create_app as build

    return build(test_config)
