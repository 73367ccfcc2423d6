"""Routing: which tier should serve a request, and why."""
