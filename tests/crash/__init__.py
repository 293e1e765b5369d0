"""Crash tests (issue 14, point 8): real child processes doing real work through the real
services on a real SQLite file, a real PostgreSQL server and a real SMTP server, killed with
SIGKILL part-way, then the database checked and the work run again."""
