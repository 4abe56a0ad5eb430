"""Event subscriptions, aggregated polling and the event publisher (OBIE events, RFC 8417 security event tokens)."""
