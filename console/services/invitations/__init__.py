"""Invitations: staff issuing, resending and cancelling them, the list staff read, and the
patient accepting one."""
