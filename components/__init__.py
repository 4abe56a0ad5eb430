"""Reusable building blocks. They know nothing of accounts or environments: callers pass the provider."""
