"""REST routers, one per resource: simulations, meters (live intervals), grid (live grid results), health."""
