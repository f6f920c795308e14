"""The candidate kit: what a candidate receives (`make kit`), built from the repository and checked for leaks."""
