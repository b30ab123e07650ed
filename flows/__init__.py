"""Prefect flows: wiring only; every task calls into ``src/revcycle``."""
