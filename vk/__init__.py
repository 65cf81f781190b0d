"""pyinterlink.vk (see DESIGN.md)."""
