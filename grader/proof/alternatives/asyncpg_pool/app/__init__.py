"""Orders API on a raw asyncpg pool (an alternative correct submission)."""
