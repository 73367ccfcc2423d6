"""Backend endpoints: HTTP clients, the health registry, selection and failover."""
