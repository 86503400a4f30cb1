"""Use cases of the exchange: each function owns its transaction."""
