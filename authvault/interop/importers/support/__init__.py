"""Helpers the importers share, one concern a module: `memo` (a file read once per import),
`text` (UTF-8 and JSON), `decode` (entry fields and the Account they make), `android_prefs`,
`sqlite`, `crypto`, `javaser` (Java serialization), `uris` (otpauth URIs in text)."""
