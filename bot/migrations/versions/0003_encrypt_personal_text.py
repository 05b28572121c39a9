"""encrypt the free-text personal columns in place (bot/crypto.py)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 12:00:00.000000

Every column below is TEXT on SQLite and PostgreSQL (revision 0001), which has no
length limit, so ciphertext (about 1.4 x the UTF-8 length + 60-100 characters)
fits without a type change. Rows are read and rewritten in batches by primary
key; a value that is already encrypted is left alone, so running the upgrade on
a partly encrypted database is safe. The downgrade decrypts everything again and
needs the same keys (DATA_ENCRYPTION_KEYS or the development key file).

Rasa's `events` table (tracker store) is not touched here: new events are
encrypted when Rasa writes them, older ones by `python -m bot keys rotate`.
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

BATCH = 500

# table -> [(column, deterministic)]; deterministic where SQL compares or groups the text
COLUMNS = {
    'reflections': [
        ('went_well', False),
        ('difficult', False),
        ('feedback', False),
        ('initiative', False),
        ('next_goal', False),
    ],
    'goals': [('text', True), ('outcome', False)],
    'supervisor_comments': [('text', False)],
    'safety_reports': [('message', False), ('details', False), ('coordinator_note', False)],
    'unanswered_questions': [('text', True)],
}


def _rewrite(transform) -> None:
    connection = op.get_bind()
    if connection.dialect.name == "sqlite":
        # overwrite the freed plaintext in the file instead of leaving it in free pages
        connection.exec_driver_sql("PRAGMA secure_delete = ON")
    for table_name, columns in COLUMNS.items():
        names = [name for name, _ in columns]
        table = sa.table(table_name, sa.column('id', sa.Integer), *(sa.column(n, sa.Text) for n in names))
        last_id = 0
        while True:
            rows = connection.execute(
                sa.select(table.c.id, *(table.c[n] for n in names))
                .where(table.c.id > last_id)
                .order_by(table.c.id)
                .limit(BATCH)
            ).all()
            if not rows:
                break
            for row in rows:
                changes = {}
                for name, deterministic in columns:
                    value = row._mapping[name]
                    if value is None:
                        continue
                    new_value = transform(value, deterministic)
                    if new_value != value:
                        changes[name] = new_value
                if changes:
                    connection.execute(table.update().where(table.c.id == row.id).values(**changes))
            last_id = rows[-1].id


def upgrade() -> None:
    from bot import crypto

    keyring = crypto.keyring()

    def encrypt(value, deterministic):
        if crypto.is_encrypted(value):
            return value
        return keyring.encrypt_deterministic(value) if deterministic else keyring.encrypt(value)

    _rewrite(encrypt)


def downgrade() -> None:
    from bot import crypto

    keyring = crypto.keyring()
    _rewrite(lambda value, _deterministic: keyring.decrypt(value))
