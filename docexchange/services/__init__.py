"""Use cases: each owns its transaction and writes its audit event."""
