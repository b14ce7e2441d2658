from sqlalchemy import create_engine, inspect

from storage.db import schema_version, upgrade
from storage.models import Base


def test_migrations_build_the_whole_schema_from_empty(any_db_url):
    engine = create_engine(any_db_url)
    assert schema_version(engine) is None
    upgrade(engine)
    upgrade(engine)  # running again is harmless
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert schema_version(engine) is not None
    engine.dispose()


def test_models_and_migrations_agree(tmp_path):
    """A model change without a migration would fail here."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    engine = create_engine(f"sqlite:///{tmp_path}/m.db")
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
