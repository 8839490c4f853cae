"""Storage: SQLAlchemy tables, queries and Alembic migrations (SQLite by default, PostgreSQL by URL)."""
