"""pyinterlink.cli (see DESIGN.md)."""
