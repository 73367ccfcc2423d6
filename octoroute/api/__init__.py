"""The HTTP surface: Falcon resources, middleware and error serialisation."""
