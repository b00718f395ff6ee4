"""The Flask application: the composition root of web, forms and the core."""
