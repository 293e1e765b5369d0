"""Portal accounts and charts: what the patient sees, the staff actions on an account or a
chart, the shared-e-mail worklist, and reading patient data (audited)."""
