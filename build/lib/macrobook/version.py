"""The package version (read by checkpoints and run records)."""
__version__ = "0.1.0"
