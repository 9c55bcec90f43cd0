"""ASL compiler tests: golden files, validators, limits."""
