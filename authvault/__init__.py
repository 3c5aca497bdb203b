"""AuthVault: a self-hosted two-factor authenticator with per-device encrypted vaults."""
