"""Moving accounts in and out of other authenticators' transfer formats (Google Authenticator export)."""
