"""What every Open Banking service shares: errors, FAPI headers, settings, caller identity, storage."""
