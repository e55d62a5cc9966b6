"""Uploaded input media (``asset://`` IDs): storage by content hash, checked by decoding."""
