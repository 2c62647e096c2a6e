"""One-off measurements behind design decisions in README "Performance" (not part of `make bench`)."""
