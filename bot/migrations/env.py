"""Alembic environment: runs migrations on the app database."""
from __future__ import annotations

from alembic import context

from bot.db import build_engine
from bot.models import Base

# Rasa's tracker store may live in the same database; never touch its tables.
RASA_TABLES = {"events"}


def include_object(obj, name, type_, reflected, compare_to):
    return not (type_ == "table" and name in RASA_TABLES)


def run_migrations_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    engine = build_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            include_object=include_object,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
