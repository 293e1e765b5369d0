"""Bringing a clinic's own charts and portal accounts in from its exports (issue 13)."""
