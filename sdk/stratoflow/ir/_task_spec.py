"""The task half of the IR: a task's interface (types, variables) and execution policy
(resources, cache, image, actor). Re-exported by ``_models``; a workflow's nodes live there.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, SerializerFunctionWrapHandler, model_serializer

__all__ = [
    "ActorRef",
    "CachePolicy",
    "ImageRef",
    "ResourcesSpec",
    "SourceLocation",
    "TaskSpec",
    "TypeKind",
    "TypeRef",
    "Variable",
]


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
    "datetime", "date", "timedelta", "decimal", "enum", "dataframe", "arrow_table",
    "structured_dataset",
]  # fmt: skip


class TypeRef(_Model):
    """A serialisable reference to a supported Python type.

    ``list`` has one arg (the item type), ``dict`` two (the key type: str, int, float, bool or an
    enum, and the value type),
    ``optional`` one; ``dataclass``, ``pydantic`` and ``enum`` carry the class import path in ``ref``.
    A table (``dataframe``, ``arrow_table``, ``structured_dataset``) may name ``columns`` (Flyte's
    ``Annotated[StructuredDataset, kwtypes(a=int)]``): its reader gets only those.
    """

    kind: TypeKind
    args: tuple[TypeRef, ...] = ()
    ref: str | None = None
    columns: tuple[tuple[str, TypeRef], ...] = ()

    @model_serializer(mode="wrap")
    def _omit_no_columns(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Left out when empty, so every spec without column subsets keeps its bytes (and spec key).
        data: dict[str, Any] = handler(self)
        if not data.get("columns"):
            data.pop("columns", None)
        return data

    def render(self) -> str:
        """Python-like spelling, used in error messages."""
        if self.kind in ("dataclass", "pydantic", "enum"):
            return (self.ref or "?").rpartition(":")[2]
        if self.kind == "optional":
            return f"Optional[{self.args[0].render()}]"
        names = {
            "none": "None",
            "file": "File",
            "directory": "Directory",
            "decimal": "Decimal",
            "dataframe": "DataFrame",
            "arrow_table": "Table",
            "structured_dataset": "StructuredDataset",
        }
        if self.columns:
            shown = ", ".join(f"{name}: {t.render()}" for name, t in self.columns)
            return f"{names[self.kind]}[{shown}]"
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


class ImageRef(_Model):
    """A task's container image: a prebuilt ``uri``, or an ``ImageSpec`` built at ``cdk deploy``.

    ``tag`` is the image's identity, a hex digest usable in resource names: the content hash
    of the normalised spec and of the project files it copies (the requirements file), or,
    for a ``uri``, the hash of the URI; the same tag is the same image. The other fields are
    what the generated Dockerfile installs (packages sorted and deduplicated, ``env`` sorted).
    """

    tag: str
    uri: str | None = None
    name: str = ""
    base_image: str | None = None
    python_version: str | None = None
    packages: tuple[str, ...] = ()
    apt_packages: tuple[str, ...] = ()
    requirements: str | None = Field(
        default=None, description="requirements file, relative to the working directory when inside it"
    )
    env: tuple[tuple[str, str], ...] = ()
    commands: tuple[str, ...] = ()
    pip_index: str | None = None
    pip_extra_index_url: tuple[str, ...] = ()


class ActorRef(_Model):
    """The actor environment a task runs in: ``replica_count`` warm workers, idle for ``ttl_seconds``.

    The environment's resources, interruptibility and image are already the task's own
    (``TaskSpec.requests`` ...); this names the worker pool and sizes it.
    """

    name: str
    replica_count: int = 1
    ttl_seconds: int = 100


class TaskSpec(_Model):
    """A task's interface and execution policy; the function is referenced by import path.

    ``image``, ``actor`` and ``enable_deck`` are omitted from the JSON when unset, so specs that use
    none keep their bytes (and their spec keys).
    """

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
    image: ImageRef | None = None
    actor: ActorRef | None = None
    location: SourceLocation
    enable_deck: bool = False  # Flyte's: the task's Deck pages are stored (protocol.deck_key)

    @model_serializer(mode="wrap")
    def _omit_unset_environment(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for optional in ("image", "actor"):
            if data.get(optional) is None:
                data.pop(optional, None)
        if not data.get("enable_deck"):
            data.pop("enable_deck", None)
        return data
