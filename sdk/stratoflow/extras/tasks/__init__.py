"""``flytekit.extras.tasks``: ``shell`` (``ShellTask``, ``OutputLocation``)."""
