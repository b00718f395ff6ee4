"""Celery: the app, the tasks, and the relay that turns committed outbox rows into tasks."""
