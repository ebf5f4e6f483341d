"""The demo trial: a CORE-like trial loaded through the application's own services."""
