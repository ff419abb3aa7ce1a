"""Alembic environment: the URL comes from the caller (see rightful.migrations.upgrade)."""

from alembic import context

from rightful.all_models import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    """Run migrations online on the configured connection or URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    from sqlalchemy import create_engine

    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run()
