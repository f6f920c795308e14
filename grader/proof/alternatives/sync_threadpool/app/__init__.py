"""Orders API with plain `def` endpoints on a pooled psycopg2 driver (an alternative correct submission)."""
