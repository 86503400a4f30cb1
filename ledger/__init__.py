"""The ledger: double-entry, append-only, hash-chained book of record."""
