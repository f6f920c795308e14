"""The orders API: the reference solution of the kit (see solution/README.md)."""
