"""EMR extract files: their format, a synthetic generator and the loader into the warehouse."""
