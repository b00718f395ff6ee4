"""The analysts' instance explorer: a workflow's instances, their transition logs, a replay check."""
