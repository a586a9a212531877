"""Maintenance of the event store: what leaves it, and when (docs/decisions.md, retention)."""
