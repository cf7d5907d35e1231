"""TODO: filled in by the loaders work."""

READERS = []
