"""What students see of hidden cases, and the results a re-grade replaced.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 12:00:00

``results.detail``: the parts of a section's report kept apart (the findings, the likely mistake,
the smallest failing input, and which hidden case failed: its number, the number of cases and
its kind of check), so that the pages and the API show a student only what the course allows.
``course.show_before_deadline`` / ``course.show_after_deadline``: what a student sees of a failed
hidden case before and after the deadline (service.course.VISIBILITY_LEVELS; NULL: the default).
``regrades``: one row per re-grade of a submission, holding the results it replaced, so that a
re-grade whose verdicts or points differ is flagged in the gradebook (old and new side by side)
and students keep seeing the old result until an instructor releases the new one.
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('results', schema=None) as batch_op:
        batch_op.add_column(sa.Column('detail', sa.JSON(), nullable=True))
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.add_column(sa.Column('show_before_deadline', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('show_after_deadline', sa.String(length=16), nullable=True))
    op.create_table('regrades',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('previous', sa.JSON(), nullable=False),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('regrades', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_regrades_submission_id'), ['submission_id'], unique=False)


def downgrade():
    with op.batch_alter_table('regrades', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_regrades_submission_id'))
    op.drop_table('regrades')
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.drop_column('show_after_deadline')
        batch_op.drop_column('show_before_deadline')
    with op.batch_alter_table('results', schema=None) as batch_op:
        batch_op.drop_column('detail')
