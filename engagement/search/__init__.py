"""Search: committees, events and pages as supporters type (Algolia in production, a local full-text index)."""
