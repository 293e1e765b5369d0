"""Console users: signing in, the session, and what administrators do with staff users."""
