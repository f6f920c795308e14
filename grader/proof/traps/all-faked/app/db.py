"""Database engine and session factory."""

from collections.abc import Iterator

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from app.config import settings

engine = create_engine(
    settings.sqlalchemy_database_url,
    poolclass=NullPool,
    connect_args={"connect_timeout": 5, "options": "-c statement_timeout=5000"},
)

SessionLocal = sessionmaker(bind=engine, expire_on_commit=False)


def get_session() -> Iterator[Session]:
    """Provide a database session for the duration of a request."""
    with SessionLocal() as session:
        yield session
