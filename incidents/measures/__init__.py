"""Emergency measures taken in incidents, with their legal basis, scope, period and lifting."""
