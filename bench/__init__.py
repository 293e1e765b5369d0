"""Benchmarks of the account table against Qt's own SQL model (``python -m bench``)."""
