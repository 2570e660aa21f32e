"""Users, roles, and what each one may see (scoping in one place)."""
