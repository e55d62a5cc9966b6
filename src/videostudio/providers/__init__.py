"""Engines and upstream providers, each a plugin behind ``providers.base.Provider``."""
