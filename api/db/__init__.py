"""Storage of the web service: SQLAlchemy 2 models, the engine, Alembic migrations, queries."""
