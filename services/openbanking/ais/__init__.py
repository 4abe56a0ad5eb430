"""Account information service (OBIE v3.1.11 AIS): consents, accounts and what they hold."""
