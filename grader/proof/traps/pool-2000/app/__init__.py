"""The orders API."""
