"""pyinterlink.server (see DESIGN.md)."""
