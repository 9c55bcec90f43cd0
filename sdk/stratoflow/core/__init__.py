"""flytekit's ``flytekit.core`` modules under stratoflow, so Flyte code that imports from them ports
by changing ``flytekit`` to ``stratoflow``: ``core.task`` (``task``, ``Echo``), ``core.workflow``,
``core.dynamic_workflow_task``, ``core.node_creation``, ``core.condition``, ``core.map_task`` and
``core.array_node_map_task``, ``core.launch_plan``, ``core.resources``, ``core.hash``,
``core.context_manager``. Each names stratoflow's own objects; nothing here is a second implementation."""
