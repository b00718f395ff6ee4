"""The workflow engine: YAML files compiled into `transitions` state machines."""
