"""The dispatcher of a gateway and its parts: leadership, planning, recording, launching, outcomes."""
