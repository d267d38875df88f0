"""What may reach an output: credentials masked and scrubbed (redact), peer text escaped and
bounded (sanitize). Pure, and imported by the sinks that write (docs/security.md)."""
