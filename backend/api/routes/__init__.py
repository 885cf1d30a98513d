"""HTTP routes, one module per concern (auth, cases, admin)."""
