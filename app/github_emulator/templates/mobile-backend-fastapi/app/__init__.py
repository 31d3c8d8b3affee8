"""Notes Sync API: the backend of an offline-first notes app."""
