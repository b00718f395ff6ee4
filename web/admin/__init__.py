"""The admin area: roles and who may see personal data."""
