"""The one error every bad input raises: its message is shown as is, with exit code 3."""

from __future__ import annotations


class ConfigError(ValueError):
    """The probe cannot run as asked. The message is shown to the user as is."""
