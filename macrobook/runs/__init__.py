"""Command-line training runs: one module per economy, sharing the layout in :mod:`.common`."""
