"""The analyst area: the workflow dashboard (the instance explorer lives in web/explorer)."""
