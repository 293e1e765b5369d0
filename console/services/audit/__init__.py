"""The tamper-evident audit log: the chained trail and its key."""
