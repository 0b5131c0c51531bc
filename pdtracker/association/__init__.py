"""The association's dashboard across its member colleges (aggregates only)."""
