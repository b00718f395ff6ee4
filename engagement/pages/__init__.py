"""Content pages: the platform's own texts (who we are, our proposals), found by the search."""
