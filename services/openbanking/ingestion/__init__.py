"""Core-banking ingestion: a consumer of account, balance and transaction events that keeps the ledger
(the PostgreSQL system-of-record copy) current and invalidates its cache."""
