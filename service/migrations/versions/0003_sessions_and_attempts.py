"""Server-side login sessions and upload attempts; the session secret leaves the database.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 12:00:00

``login_sessions``: signing out ends a session on the server (a copied cookie stops working).
``upload_attempts``: the per-hour limit of upload attempts is counted in the database, so every
server on it enforces the same one. The ``session_secret`` row of ``settings`` is deleted: the key
is now a file of the server's own (service.state); sessions signed with the old key end (everybody
signs in again once).
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_sessions',
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], ),
    sa.PrimaryKeyConstraint('key_hash')
    )
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_sessions_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_sessions_person_id'), ['person_id'], unique=False)

    op.create_table('upload_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('upload_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_upload_attempts_person_time', ['person_id', 'created_at'], unique=False)

    op.execute(sa.text("DELETE FROM settings WHERE key = 'session_secret'"))


def downgrade():
    with op.batch_alter_table('upload_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_upload_attempts_person_time')
    op.drop_table('upload_attempts')
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_sessions_person_id'))
        batch_op.drop_index(batch_op.f('ix_login_sessions_expires_at'))
    op.drop_table('login_sessions')
