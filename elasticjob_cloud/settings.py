"""Settings (filled in below)."""
