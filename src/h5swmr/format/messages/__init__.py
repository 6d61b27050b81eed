"""Object header messages, one module each, named after the spec's message."""
