"""Flask-WTF forms built from the engine's field specs."""
