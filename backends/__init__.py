"""pyinterlink.backends (see DESIGN.md)."""
