"""stratoflow's test suite (a package, so test modules and task helpers import as ``tests.<dir>.<name>``)."""
