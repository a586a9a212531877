"""Black-box fault suite (issue 8): real worker processes, a private PostgreSQL and broker, faults
injected, invariants checked over the event store. See docs/operations.md, "Fault suite"."""
