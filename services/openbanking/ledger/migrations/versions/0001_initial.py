"""The initial ledger schema: customers, parties, products, accounts and their data, ingestion bookkeeping.

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ingestion_cursors",
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("last_sequence", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id"),
    )
    op.create_table(
        "ingestion_held",
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "sequence"),
    )
    op.create_table(
        "ingestion_messages",
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("message_id"),
    )
    op.create_table(
        "parties",
        sa.Column("party_id", sa.String(length=40), nullable=False),
        sa.Column("party_number", sa.String(length=35), nullable=True),
        sa.Column("party_type", sa.String(length=16), nullable=True),
        sa.Column("name", sa.String(length=350), nullable=True),
        sa.Column("full_legal_name", sa.String(length=350), nullable=True),
        sa.Column("legal_structure", sa.String(length=64), nullable=True),
        sa.Column("email_address", sa.String(length=256), nullable=True),
        sa.Column("phone", sa.String(length=35), nullable=True),
        sa.Column("mobile", sa.String(length=35), nullable=True),
        sa.Column("addresses", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("party_id"),
    )
    op.create_table(
        "products",
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("product_name", sa.String(length=350), nullable=False),
        sa.Column("product_type", sa.String(length=32), nullable=False),
        sa.Column("secondary_product_id", sa.String(length=70), nullable=True),
        sa.Column("marketing_state_id", sa.String(length=35), nullable=True),
        sa.PrimaryKeyConstraint("product_id"),
    )
    op.create_table(
        "customers",
        sa.Column("psu_id", sa.String(length=40), nullable=False),
        sa.Column("party_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["party_id"],
            ["parties.party_id"],
        ),
        sa.PrimaryKeyConstraint("psu_id"),
    )
    op.create_table(
        "accounts",
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("psu_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_update_date_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("account_type", sa.String(length=16), nullable=False),
        sa.Column("account_sub_type", sa.String(length=16), nullable=False),
        sa.Column("description", sa.String(length=35), nullable=True),
        sa.Column("nickname", sa.String(length=70), nullable=True),
        sa.Column("opening_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("maturity_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scheme_name", sa.String(length=40), nullable=False),
        sa.Column("identification", sa.String(length=256), nullable=False),
        sa.Column("account_name", sa.String(length=350), nullable=True),
        sa.Column("secondary_identification", sa.String(length=34), nullable=True),
        sa.Column("servicer_bic", sa.String(length=35), nullable=True),
        sa.Column("product_id", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.product_id"],
        ),
        sa.ForeignKeyConstraint(
            ["psu_id"],
            ["customers.psu_id"],
        ),
        sa.PrimaryKeyConstraint("account_id"),
    )
    op.create_index(op.f("ix_accounts_psu_id"), "accounts", ["psu_id"], unique=False)
    op.create_table(
        "account_parties",
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("party_id", sa.String(length=40), nullable=False),
        sa.Column("account_role", sa.String(length=64), nullable=False),
        sa.Column("beneficial_ownership", sa.Boolean(), nullable=False),
        sa.Column("primary", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.account_id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["party_id"],
            ["parties.party_id"],
        ),
        sa.PrimaryKeyConstraint("account_id", "party_id"),
    )
    op.create_table(
        "balances",
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("credit_debit", sa.String(length=6), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=5), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("date_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("credit_lines", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.account_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id", "type"),
    )
    op.create_table(
        "beneficiaries",
        sa.Column("beneficiary_id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("beneficiary_type", sa.String(length=10), nullable=True),
        sa.Column("reference", sa.String(length=35), nullable=True),
        sa.Column("creditor_scheme_name", sa.String(length=40), nullable=False),
        sa.Column("creditor_identification", sa.String(length=256), nullable=False),
        sa.Column("creditor_name", sa.String(length=350), nullable=True),
        sa.Column("creditor_agent_bic", sa.String(length=35), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.account_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("beneficiary_id"),
    )
    op.create_index(op.f("ix_beneficiaries_account_id"), "beneficiaries", ["account_id"], unique=False)
    op.create_table(
        "direct_debits",
        sa.Column("direct_debit_id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("mandate_identification", sa.String(length=35), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=True),
        sa.Column("name", sa.String(length=70), nullable=False),
        sa.Column("frequency", sa.String(length=32), nullable=True),
        sa.Column("previous_payment_date_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("previous_payment_amount", sa.Numeric(precision=18, scale=5), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.account_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("direct_debit_id"),
    )
    op.create_index(op.f("ix_direct_debits_account_id"), "direct_debits", ["account_id"], unique=False)
    op.create_table(
        "standing_orders",
        sa.Column("standing_order_id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("frequency", sa.String(length=35), nullable=False),
        sa.Column("reference", sa.String(length=35), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("first_payment_date_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_payment_amount", sa.Numeric(precision=18, scale=5), nullable=True),
        sa.Column("next_payment_date_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_payment_amount", sa.Numeric(precision=18, scale=5), nullable=True),
        sa.Column("last_payment_date_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_payment_amount", sa.Numeric(precision=18, scale=5), nullable=True),
        sa.Column("final_payment_date_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("final_payment_amount", sa.Numeric(precision=18, scale=5), nullable=True),
        sa.Column("number_of_payments", sa.String(length=35), nullable=True),
        sa.Column("creditor_scheme_name", sa.String(length=40), nullable=False),
        sa.Column("creditor_identification", sa.String(length=256), nullable=False),
        sa.Column("creditor_name", sa.String(length=350), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.account_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("standing_order_id"),
    )
    op.create_index(op.f("ix_standing_orders_account_id"), "standing_orders", ["account_id"], unique=False)
    op.create_table(
        "transactions",
        sa.Column("transaction_id", sa.String(length=210), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("transaction_reference", sa.String(length=210), nullable=True),
        sa.Column("credit_debit", sa.String(length=6), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("booking_date_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value_date_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("transaction_information", sa.String(length=500), nullable=True),
        sa.Column("amount", sa.Numeric(precision=18, scale=5), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("bank_transaction_code", sa.String(length=35), nullable=True),
        sa.Column("bank_transaction_sub_code", sa.String(length=35), nullable=True),
        sa.Column("proprietary_code", sa.String(length=35), nullable=True),
        sa.Column("proprietary_issuer", sa.String(length=35), nullable=True),
        sa.Column("merchant_name", sa.String(length=350), nullable=True),
        sa.Column("merchant_category_code", sa.String(length=4), nullable=True),
        sa.Column("counterparty_scheme_name", sa.String(length=40), nullable=True),
        sa.Column("counterparty_identification", sa.String(length=256), nullable=True),
        sa.Column("counterparty_name", sa.String(length=350), nullable=True),
        sa.Column("balance_credit_debit", sa.String(length=6), nullable=True),
        sa.Column("balance_amount", sa.Numeric(precision=18, scale=5), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.account_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("transaction_id"),
    )
    op.create_index(
        "ix_transactions_account_booking",
        "transactions",
        ["account_id", "booking_date_time", "transaction_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_transactions_account_booking", table_name="transactions")
    op.drop_table("transactions")
    op.drop_index(op.f("ix_standing_orders_account_id"), table_name="standing_orders")
    op.drop_table("standing_orders")
    op.drop_index(op.f("ix_direct_debits_account_id"), table_name="direct_debits")
    op.drop_table("direct_debits")
    op.drop_index(op.f("ix_beneficiaries_account_id"), table_name="beneficiaries")
    op.drop_table("beneficiaries")
    op.drop_table("balances")
    op.drop_table("account_parties")
    op.drop_index(op.f("ix_accounts_psu_id"), table_name="accounts")
    op.drop_table("accounts")
    op.drop_table("customers")
    op.drop_table("products")
    op.drop_table("parties")
    op.drop_table("ingestion_messages")
    op.drop_table("ingestion_held")
    op.drop_table("ingestion_cursors")
