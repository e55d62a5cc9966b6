"""Video Studio: one HTTP API over many video-generation models."""

__version__ = "0.1.0"
