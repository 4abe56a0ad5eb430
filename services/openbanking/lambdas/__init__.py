"""The Lambda functions of the services (each built into its own zip archive by services/build_lambdas.py)."""
