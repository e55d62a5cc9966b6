"""The HTTP layer: app factory, shared dependencies, error envelope and body limits."""
