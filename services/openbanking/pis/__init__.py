"""Payment initiation (OBIE v3.1.11 PIS): domestic-payment consents and domestic payments."""
