"""The sandbox's synthetic data: `python -m openbanking.sandbox.seed` (the `sandbox_seed` task)."""
