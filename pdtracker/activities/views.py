"""Activity log views (being written)."""
