"""revcycle: a revenue-cycle (EMR billing) pipeline."""

__version__ = "0.1.0"
