"""Orders API on psycopg 3 async connections (an alternative correct submission)."""
