"""Application settings, read from the environment."""

from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    """Configuration for the orders API.

    `DATABASE_URL` is a libpq URL (``postgresql://user@host:port/dbname``) and
    `PAYMENTS_URL` the base URL of the payments provider.
    """

    database_url: str
    payments_url: str

    @property
    def sqlalchemy_database_url(self) -> str:
        """The database URL in the form SQLAlchemy expects."""
        scheme, _, rest = self.database_url.partition("://")
        if scheme in ("postgres", "postgresql"):
            return f"postgresql+psycopg2://{rest}"
        return self.database_url


settings = Settings()
