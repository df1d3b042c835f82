"""Jobs the checker failed on are tried again later, never recorded as crashed.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 12:00:00

``jobs.checker_failures``: how many times the grading machinery failed on the job (an
InfrastructureError: a sandbox that cannot start, a cluster that cannot run it, a bug of ours);
``jobs.retry_at``: the job stays queued but is not claimed before then. A submission with such a
failure does not count against the student's uploads per hour.
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checker_failures', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('retry_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('retry_at')
        batch_op.drop_column('checker_failures')
