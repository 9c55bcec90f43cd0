"""``flytekit.extras`` under stratoflow: ``stratoflow.extras.tasks.shell`` (``ShellTask``)."""
