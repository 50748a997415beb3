"""The pvsim web service: power-flow simulations and live results over REST, GraphQL and WebSocket.

``python -m api`` serves :func:`api.app.create_app` with uvicorn. Layers, imported one way:
``settings`` → ``db`` (SQLAlchemy models, Alembic migrations, queries) → ``simulations`` (power
flows through ``grid``) → ``live`` (push hub, results consumer) → ``rest`` / ``graphql`` → ``app``.
"""
