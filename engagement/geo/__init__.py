"""French communes (INSEE codes by postal code) and the UN member states, from shipped open data."""
