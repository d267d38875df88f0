"""One module per output format; the pure ones (json, text, markdown) import no rich."""
