"""X12 EDI: one tolerant reader for every transaction, one writer module per guide."""
