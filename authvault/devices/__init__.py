"""Devices: one browser on one phone, tablet or computer, its cookie, unlock sessions and passkeys."""
