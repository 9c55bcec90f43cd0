"""Pydantic models of a compiled workflow: pure data, versioned, no callables.

Every backend (local executor, ASL compiler, graph view) reads these models and nothing
else, so compiling is a pure function of a :class:`WorkflowSpec`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

__all__ = [
    "SCHEMA_VERSION",
    "Binding",
    "CachePolicy",
    "DictBinding",
    "InputBinding",
    "JsonValue",
    "ListBinding",
    "LiteralBinding",
    "MapNode",
    "Node",
    "PromiseBinding",
    "ResourcesSpec",
    "SourceLocation",
    "TaskNode",
    "TaskSpec",
    "TriggerSpec",
    "TypeRef",
    "Variable",
    "WorkflowSpec",
]

SCHEMA_VERSION = 1


class _Model(BaseModel):
    # defer_build: schemas are built on first use, not at `import stratoflow` (most of its time).
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class SourceLocation(_Model):
    """Where in the user's code something was defined."""

    path: str
    line: int
    col: int = 0


TypeKind = Literal[
    "int", "float", "str", "bool", "none", "list", "dict", "optional",
    "dataclass", "pydantic", "file", "directory", "bytes",
]  # fmt: skip


class TypeRef(_Model):
    """A serialisable reference to a supported Python type.

    ``list`` has one arg (the item type), ``dict`` two (``str`` and the value type),
    ``optional`` one; ``dataclass`` and ``pydantic`` carry the class import path in ``ref``.
    """

    kind: TypeKind
    args: tuple[TypeRef, ...] = ()
    ref: str | None = None

    def render(self) -> str:
        """Python-like spelling, used in error messages."""
        if self.kind in ("dataclass", "pydantic"):
            return (self.ref or "?").rpartition(":")[2]
        if self.kind == "optional":
            return f"Optional[{self.args[0].render()}]"
        names = {"none": "None", "file": "File", "directory": "Directory"}
        if self.args:
            return f"{self.kind}[{', '.join(a.render() for a in self.args)}]"
        return names.get(self.kind, self.kind)


class Variable(_Model):
    """A named, typed input or output; ``default`` is the encoded JSON default, if any."""

    name: str
    type: TypeRef
    has_default: bool = False
    default: JsonValue = None


class ResourcesSpec(_Model):
    """Normalised resource requests: vCPUs, MiB of memory and ephemeral storage, GPUs."""

    cpu: float | None = None
    memory_mib: int | None = None
    gpu: int = 0
    ephemeral_storage_mib: int | None = None
    accelerator: str | None = Field(
        default=None, description="Flyte accelerator device name (e.g. 'nvidia-tesla-t4'); None: any GPU"
    )


class CachePolicy(_Model):
    """How a task's results are cached. ``version`` is explicit or ``src:<hash of the body>``."""

    enabled: bool = False
    version: str = ""
    serialize: bool = False
    ignore_inputs: tuple[str, ...] = ()


class TaskSpec(_Model):
    """A task's interface and execution policy; the function is referenced by import path."""

    name: str
    ref: str = Field(description="'module:qualname' of the user function")
    code_hash: str
    kind: Literal["task", "dynamic"] = "task"
    inputs: tuple[Variable, ...]
    outputs: tuple[Variable, ...]
    output_style: Literal["none", "single", "tuple", "namedtuple"] = "single"
    requests: ResourcesSpec = ResourcesSpec()
    limits: ResourcesSpec = ResourcesSpec()
    interruptible: bool = False
    cache: CachePolicy = CachePolicy()
    retries: int = 0
    timeout_seconds: int | None = None
    compute: Literal["auto", "lambda", "fargate", "batch"] = "auto"
    location: SourceLocation


class PromiseBinding(_Model):
    """The value of output ``output`` of node ``node``."""

    kind: Literal["promise"] = "promise"
    node: str
    output: str


class InputBinding(_Model):
    """The value of workflow input ``name``."""

    kind: Literal["input"] = "input"
    name: str


class LiteralBinding(_Model):
    """A constant from the workflow body, already encoded to JSON by the value codec."""

    kind: Literal["literal"] = "literal"
    value: JsonValue


class ListBinding(_Model):
    """A list built in the workflow body from promises and constants."""

    kind: Literal["list"] = "list"
    items: tuple[Binding, ...]


class DictBinding(_Model):
    """A ``dict[str, T]`` built in the workflow body from promises and constants."""

    kind: Literal["dict"] = "dict"
    entries: dict[str, Binding]


Binding = Annotated[
    PromiseBinding | InputBinding | LiteralBinding | ListBinding | DictBinding, Field(discriminator="kind")
]


class TaskNode(_Model):
    """One call of a task in a workflow."""

    kind: Literal["task"] = "task"
    id: str
    task: str = Field(description="key into WorkflowSpec.tasks")
    inputs: dict[str, Binding]
    location: SourceLocation

    def upstream(self) -> list[str]:
        """Ids of the nodes whose outputs this node reads, in binding order, no duplicates."""
        return _upstream(self.inputs.values())


class MapNode(_Model):
    """A task mapped over one or more list inputs (zipped), other inputs broadcast."""

    kind: Literal["map"] = "map"
    id: str
    task: str
    inputs: dict[str, Binding]
    mapped: tuple[str, ...]
    concurrency: int | None = None
    min_success_ratio: float = 1.0
    batch_size: int | None = None
    # Local runs only: items in worker processes (CPU-bound tasks); AWS runs each in a Lambda anyway.
    processes: bool = False
    location: SourceLocation

    def upstream(self) -> list[str]:
        """Ids of the nodes whose outputs this node reads."""
        return _upstream(self.inputs.values())


Node = Annotated[TaskNode | MapNode, Field(discriminator="kind")]


class TriggerSpec(_Model):
    """Start the workflow when an object lands in S3 under ``prefix`` (``input`` gets the File)."""

    kind: Literal["s3"] = "s3"
    prefix: str = ""
    suffix: str = ""
    input: str


class WorkflowSpec(_Model):
    """A whole workflow: interface, nodes in topological order, and the tasks they call.

    Sub-workflows are inlined when lowering (node ids are prefixed with the calling
    node's id), so every backend sees one flat DAG.
    """

    schema_version: int = SCHEMA_VERSION
    name: str
    ref: str
    inputs: tuple[Variable, ...]
    outputs: tuple[Variable, ...]
    output_style: Literal["none", "single", "tuple", "namedtuple"] = "single"
    output_bindings: dict[str, Binding]
    nodes: tuple[Node, ...]
    tasks: dict[str, TaskSpec]
    triggers: tuple[TriggerSpec, ...] = ()
    location: SourceLocation

    def node(self, node_id: str) -> TaskNode | MapNode:
        """The node with id ``node_id`` (runners look nodes up once per task: keep it O(1))."""
        cached = _NODE_INDEX.get(id(self))
        if cached is None or cached[0] is not self:
            cached = (self, {candidate.id: candidate for candidate in self.nodes})
            _NODE_INDEX[id(self)] = cached
        return cached[1][node_id]


# id(spec) -> (spec, index). Kept outside the model so indexing never changes equality;
# holding the spec keeps its id from being reused. Processes see a handful of specs.
_NODE_INDEX: dict[int, tuple[WorkflowSpec, dict[str, TaskNode | MapNode]]] = {}


def _upstream(bindings: object) -> list[str]:
    seen: dict[str, None] = {}
    stack = list(bindings)  # type: ignore[call-overload]
    while stack:
        binding = stack.pop(0)
        if isinstance(binding, PromiseBinding):
            seen.setdefault(binding.node)
        elif isinstance(binding, ListBinding):
            stack[0:0] = list(binding.items)
        elif isinstance(binding, DictBinding):
            stack[0:0] = list(binding.entries.values())
    return list(seen)


# No model_rebuild() here: with defer_build the self-references (TypeRef.args, the nested
# bindings) are resolved from this module's namespace when a model is first used.
