"""Grades side by side: rankings by scorecard and by normalised latency, on one page (`make compare`)."""
