"""A plugin package whose module fails to import."""
