"""Engagement: workflow-driven volunteer mobilisation. The core package imports no web framework."""

from pathlib import Path

__version__ = "0.1.0"

#: The checkout (editable install) that holds workflows/, templates/ and translations/.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
