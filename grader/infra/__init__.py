"""Infrastructure a grade runs on: PostgreSQL, a fault-injecting PostgreSQL proxy, a payments stub."""
