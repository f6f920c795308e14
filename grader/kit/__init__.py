"""Maintenance tools for the kit itself."""
