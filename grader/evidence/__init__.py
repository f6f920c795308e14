"""Supporting evidence beside the probes: what ruff and asyncio's debug mode say. Never a verdict alone."""
