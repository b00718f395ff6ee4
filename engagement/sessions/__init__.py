"""Server-side HTTP session storage for the embedded (database-backed) configuration."""
