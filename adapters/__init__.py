"""pyinterlink.adapters (see DESIGN.md)."""
