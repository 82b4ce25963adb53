"""Users, organisations (contractors) and API tokens."""
