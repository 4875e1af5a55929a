"""audit_events append-only in the database: triggers refuse UPDATE, DELETE and TRUNCATE

Revision ID: 5d0a1f3c9b21
Revises: c852a0466112
Create Date: 2026-11-25 17:20:00

The statements are copied here, not imported from the models, so this migration stays what it
was when it was released.
"""

from alembic import op

revision = "5d0a1f3c9b21"
down_revision = "c852a0466112"
branch_labels = None
depends_on = None

SQLITE_UP = (
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events WHEN OLD.hash <> '' "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
    # INSERT OR REPLACE deletes the old row without firing DELETE triggers.
    "CREATE TRIGGER audit_events_no_replace BEFORE INSERT ON audit_events "
    "WHEN EXISTS (SELECT 1 FROM audit_events WHERE id = NEW.id) "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
)
SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS audit_events_no_update",
    "DROP TRIGGER IF EXISTS audit_events_no_delete",
    "DROP TRIGGER IF EXISTS audit_events_no_replace",
)
POSTGRES_UP = (
    """CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.hash = '' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only' USING ERRCODE = 'insufficient_privilege';
END $$""",
    "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
    "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()",
)
POSTGRES_DOWN = (
    "DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events",
    "DROP TRIGGER IF EXISTS audit_events_no_change ON audit_events",
    "DROP FUNCTION IF EXISTS audit_events_append_only()",
)


def _run(sqlite: tuple[str, ...], postgres: tuple[str, ...]) -> None:
    dialect = op.get_bind().dialect.name
    for statement in postgres if dialect == "postgresql" else sqlite:
        op.execute(statement)


def upgrade():
    _run(SQLITE_UP, POSTGRES_UP)


def downgrade():
    _run(SQLITE_DOWN, POSTGRES_DOWN)
