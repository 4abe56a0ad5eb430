"""The developer sandbox: the same services with synthetic data, a sandbox CA (`ca`) and IdP (`idp`) standing in for
the Open Banking Directory, the bank's IdP and core banking (`settlement`), their directory of TPPs (`directory`).
Locally all on one port (`make sandbox`: `server`, `state`, `settings`, the printed steps in `instructions`, the
command line in `__main__`); deployed, `sandbox_ca`, `sandbox_idp` and the `sandbox_seed` task."""
