"""Accounts and API keys: who is calling, and proof of it."""
