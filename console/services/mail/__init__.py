"""E-mail: the templates, the outbox an action writes to, the relay that sends it, and the
transports (SMTP, a pickup folder)."""
