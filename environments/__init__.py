"""Environments: the config schema and the Environment component that composes the accounts."""
