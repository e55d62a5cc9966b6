"""Credits: an append-only ledger, a cached balance, and guarded debits and refunds."""
