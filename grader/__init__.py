"""The kit's grader: runs a submission against real infrastructure and measures each catalogued bug."""

__version__ = "0.1.0"
