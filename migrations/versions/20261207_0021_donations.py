"""Donations and membership fees (issue #26): the donations ledger, each payment, the donors' yearly totals under
the ceiling, the provider events applied, and the tax receipts numbered per year.

Revision ID: 20261207_0021
Revises: 0020_campaign_recipient_count
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0021_donations"
down_revision: str | Sequence[str] | None = "0020_campaign_recipient_count"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")


def upgrade() -> None:
    op.create_table('donor_years',
    sa.Column('ceiling_key', sa.String(length=64), nullable=False),
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('counted_cents', sa.Integer(), nullable=False, comment='received (net of refunds) plus held, in cents'),
    sa.PrimaryKeyConstraint('ceiling_key', 'year', name=op.f('pk_donor_years'))
    )
    op.create_table('payment_events',
    sa.Column('event_id', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False, comment='applied, duplicate, ignored or unknown'),
    sa.Column('received_at', WHEN, nullable=False),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_payment_events'))
    )
    op.create_index('ix_payment_events_received_at', 'payment_events', ['received_at'], unique=False)
    op.create_table('receipt_counters',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last', sa.Integer(), nullable=False, comment='the last receipt number given in that year'),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_receipt_counters'))
    )
    op.create_table('donations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=32), nullable=False,
              comment='random; what the payment provider carries back to us'),
    sa.Column('kind', sa.String(length=16), nullable=False, comment='gift or membership'),
    sa.Column('monthly', sa.Boolean(), nullable=False, comment='a monthly gift (a subscription at the provider)'),
    sa.Column('amount_cents', sa.Integer(), nullable=False, comment="each payment's amount, in euro cents"),
    sa.Column('status', sa.String(length=16), nullable=False,
              comment='pending, paid, active, ended, expired or failed'),
    sa.Column('user_id', sa.Integer(), nullable=True, comment='the member who gave, when signed in'),
    sa.Column('first_name', sa.String(length=100), nullable=False,
              comment='the donor, as the law requires it on the receipt'),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False, comment='where the receipt is sent'),
    sa.Column('locale', sa.String(length=5), nullable=False, comment="the language of the donor's mails"),
    sa.Column('street', sa.String(length=200), nullable=False),
    sa.Column('postal_code', sa.String(length=10), nullable=False),
    sa.Column('city_code', sa.String(length=5), nullable=False, comment='INSEE commune code'),
    sa.Column('city_name', sa.String(length=100), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False, comment='ISO 3166 code of the address'),
    sa.Column('attestation', sa.String(length=16), nullable=False,
              comment='national or resident: what the donor certified (only they may give)'),
    sa.Column('ceiling_key', sa.String(length=64), nullable=False,
              comment='SHA-256 of the normalised identity and address: one person'),
    sa.Column('year', sa.Integer(), nullable=False, comment='the calendar year (Paris) its held amount counts in'),
    sa.Column('held_cents', sa.Integer(), nullable=False,
              comment='held under the ceiling while the payment page is open; 0 once paid, expired or failed'),
    sa.Column('session_id', sa.String(length=255), nullable=True, comment="the provider's checkout"),
    sa.Column('subscription_id', sa.String(length=255), nullable=True,
              comment="the provider's subscription (monthly)"),
    sa.Column('created_at', WHEN, nullable=False),
    sa.Column('expires_at', WHEN, nullable=False, comment="the payment page's end: unpaid by then, the hold goes"),
    sa.Column('ended_at', WHEN, nullable=True, comment='paid, expired, failed or (monthly) stopped'),
    sa.Column('stop_reason', sa.String(length=32), nullable=True,
              comment='why a monthly gift stopped: ceiling, donor'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_donations_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_donations')),
    sa.UniqueConstraint('reference', name=op.f('uq_donations_reference')),
    sa.UniqueConstraint('session_id', name=op.f('uq_donations_session_id')),
    sa.UniqueConstraint('subscription_id', name=op.f('uq_donations_subscription_id'))
    )
    op.create_index(op.f('ix_donations_ceiling_key'), 'donations', ['ceiling_key'], unique=False)
    op.create_index(op.f('ix_donations_user_id'), 'donations', ['user_id'], unique=False)
    op.create_table('donation_receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('number', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('donation_id', sa.Integer(), nullable=False),
    sa.Column('yearly', sa.Boolean(), nullable=False, comment="a monthly donor's receipt for the whole year"),
    sa.Column('issued_at', WHEN, nullable=False),
    sa.Column('beneficiary', sa.JSON(), nullable=False,
              comment='the financing association as the receipt names it, fixed when issued (name, address, approval)'),
    sa.Column('mailed_at', WHEN, nullable=True, comment='when its mail was queued (once)'),
    sa.ForeignKeyConstraint(['donation_id'], ['donations.id'],
              name=op.f('fk_donation_receipts_donation_id_donations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_donation_receipts')),
    sa.UniqueConstraint('year', 'number', name='uq_donation_receipts_year_number')
    )
    op.create_index(op.f('ix_donation_receipts_donation_id'), 'donation_receipts', ['donation_id'], unique=False)
    op.create_table('donation_payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('donation_id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.String(length=255), nullable=False,
              comment="the provider's payment intent or invoice: money counted once"),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('received_at', WHEN, nullable=False, comment='when the provider says the money was received'),
    sa.Column('year', sa.Integer(), nullable=False, comment='the calendar year (Paris) the payment counts in'),
    sa.Column('refunded_cents', sa.Integer(), nullable=False, comment='given back so far (refunds)'),
    sa.Column('disputed_cents', sa.Integer(), nullable=False, comment='taken back by an open or lost chargeback'),
    sa.Column('over_ceiling', sa.Boolean(), nullable=False,
              comment="received past the donor's yearly ceiling: not counted, to be refunded"),
    sa.Column('receipt_id', sa.Integer(), nullable=True),
    sa.Column('refund_requested_at', WHEN, nullable=True,
              comment='when the treasurer last asked the provider for a refund (the ledger moves on its webhook)'),
    sa.Column('refund_requested_by', sa.Integer(), nullable=True, comment='the treasurer who asked'),
    sa.Column('refund_requested_cents', sa.Integer(), nullable=True,
              comment='the refunded total asked for: the refund is pending while refunded_cents is below it'),
    sa.ForeignKeyConstraint(['donation_id'], ['donations.id'],
              name=op.f('fk_donation_payments_donation_id_donations')),
    sa.ForeignKeyConstraint(['receipt_id'], ['donation_receipts.id'],
              name=op.f('fk_donation_payments_receipt_id_donation_receipts')),
    sa.ForeignKeyConstraint(['refund_requested_by'], ['users.id'],
              name=op.f('fk_donation_payments_refund_requested_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_donation_payments')),
    sa.UniqueConstraint('payment_id', name=op.f('uq_donation_payments_payment_id'))
    )
    op.create_index(op.f('ix_donation_payments_donation_id'), 'donation_payments', ['donation_id'], unique=False)
    op.create_index(op.f('ix_donation_payments_receipt_id'), 'donation_payments', ['receipt_id'], unique=False)
    op.create_index(op.f('ix_donation_payments_refund_requested_by'), 'donation_payments', ['refund_requested_by'],
                    unique=False)


def downgrade() -> None:
    for table in ("donation_payments", "donation_receipts", "donations", "receipt_counters", "payment_events",
                  "donor_years"):
        op.drop_table(table)
