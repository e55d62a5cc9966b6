"""Media: rendering, storage and serving of generated files."""
