"""used chat tokens: a chat token opens at most one chat

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 18:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('used_chat_tokens',
    sa.Column('jti', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('jti')
    )
    with op.batch_alter_table('used_chat_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_used_chat_tokens_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('used_chat_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_used_chat_tokens_expires_at'))

    op.drop_table('used_chat_tokens')
