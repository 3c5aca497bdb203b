"""Helpers the importers share: decoding, Android preferences, SQLite, crypto, Java serialization, URIs."""
