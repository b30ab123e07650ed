"""Data-quality gates: great-expectations suites over what leaves (and later, what arrives)."""
