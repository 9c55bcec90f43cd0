"""The task half of the IR: a task's interface (types, variables) and execution policy
(resources, cache, image, actor). Re-exported by ``_models``; a workflow's nodes live there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

from stratoflow.ir import _names
from stratoflow.ir._record import JsonValue, Record

__all__ = [
    "ActorRef",
    "CachePolicy",
    "ImageRef",
    "ResourcesSpec",
    "SecretRequest",
    "SourceLocation",
    "TaskSpec",
    "TypeKind",
    "TypeRef",
    "Variable",
]


@dataclass(frozen=True, kw_only=True)
class SourceLocation(Record):
    """Where in the user's code something was defined."""

    path: str
    line: int
    col: int = 0


TypeKind = Literal[
    "int", "float", "str", "bool", "none", "list", "dict", "optional",
    "dataclass", "pydantic", "file", "directory", "bytes",
    "datetime", "date", "timedelta", "decimal", "enum", "dataframe", "arrow_table",
    "structured_dataset", "json",
]  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class TypeRef(Record):
    """A serialisable reference to a supported Python type.

    ``list`` has one arg (the item type), ``dict`` two (the key type: str, int, float, bool or an
    enum, and the value type),
    ``optional`` one; ``dataclass``, ``pydantic`` and ``enum`` carry the class import path in ``ref``.
    ``json`` is any JSON value: an untyped ``dict`` (Flyte's, stored as JSON) is ``dict[str, json]``.
    A table (``dataframe``, ``arrow_table``, ``structured_dataset``) may name ``columns`` (Flyte's
    ``Annotated[StructuredDataset, kwtypes(a=int)]``): its reader gets only those.
    """

    kind: TypeKind
    args: tuple[TypeRef, ...] = ()
    ref: str | None = None
    columns: tuple[tuple[str, TypeRef], ...] = ()

    @staticmethod
    def _trim(data: dict[str, Any]) -> dict[str, Any]:
        # Left out when empty, so every spec without column subsets keeps its bytes (and spec key).
        if not data.get("columns"):
            data.pop("columns", None)
        return data

    def render(self) -> str:
        """Python-like spelling, used in error messages."""
        if self.kind in ("dataclass", "pydantic", "enum"):
            return (self.ref or "?").rpartition(":")[2]
        if self.kind == "optional":
            return f"Optional[{self.args[0].render()}]"
        if self.kind == "dict" and self.args and self.args[1].kind == "json":
            return "dict"  # an untyped dict, as the user wrote it
        names = {
            "json": "JSON",
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


@dataclass(frozen=True, kw_only=True)
class Variable(Record):
    """A named, typed input or output; ``default`` is the encoded JSON default, if any."""

    name: str
    type: TypeRef
    has_default: bool = False
    default: JsonValue = None


@dataclass(frozen=True, kw_only=True)
class ResourcesSpec(Record):
    """Normalised resource requests: vCPUs, MiB of memory and ephemeral storage, GPUs."""

    cpu: float | None = None
    memory_mib: int | None = None
    gpu: int = 0
    ephemeral_storage_mib: int | None = None
    accelerator: str | None = None  # Flyte's accelerator device name (e.g. 'nvidia-tesla-t4'); None: any GPU


@dataclass(frozen=True, kw_only=True)
class CachePolicy(Record):
    """How a task's results are cached. ``version`` is explicit or ``src:<hash of the body>``."""

    enabled: bool = False
    version: str = ""
    serialize: bool = False
    ignore_inputs: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ImageRef(Record):
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
    requirements: str | None = None  # requirements file, relative to the working directory when inside it
    env: tuple[tuple[str, str], ...] = ()
    commands: tuple[str, ...] = ()
    pip_index: str | None = None
    pip_extra_index_url: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ActorRef(Record):
    """The actor environment a task runs in: ``replica_count`` warm workers, idle for ``ttl_seconds``.

    The environment's resources, interruptibility and image are already the task's own
    (``TaskSpec.requests`` ...); this names the worker pool and sizes it.
    """

    name: str
    replica_count: int = 1
    ttl_seconds: int = 100


@dataclass(frozen=True, kw_only=True)
class SecretRequest(Record):
    """A secret a task reads (flytekit's ``Secret``): Secrets Manager's ``stratoflow/<group>[/<version>]/<key>``
    on AWS, ``STRATOFLOW_SECRET_<GROUP>_<KEY>`` or ``$STRATOFLOW_HOME/secrets/<group>/<key>`` locally.
    Only the name: a value never enters the IR."""

    group: str
    key: str | None = None
    group_version: str | None = None
    mount: Literal["any", "env_var", "file"] = "any"

    @property
    def name(self) -> str:
        """The Secrets Manager secret name."""
        return _names.secret_name(self.group, self.key, self.group_version)

    @property
    def env_var(self) -> str:
        """The environment variable ECS fills in a container task (``STRATOFLOW_SECRET_DB_PASSWORD``)."""
        return _names.secret_env_var(self.group, self.key, self.group_version)


# Defaults shared by every TaskSpec (records are frozen), built without validating them.
_NO_RESOURCES: Final = ResourcesSpec.trusted()
_NO_CACHE: Final = CachePolicy.trusted()


@dataclass(frozen=True, kw_only=True)
class TaskSpec(Record):
    """A task's interface and execution policy; the function is referenced by import path.

    ``image``, ``actor``, ``enable_deck`` and ``secrets`` are omitted from the JSON when unset, so specs that use
    none keep their bytes (and their spec keys).
    """

    name: str
    ref: str  # 'module:qualname' of the user function
    code_hash: str
    kind: Literal["task", "dynamic"] = "task"
    inputs: tuple[Variable, ...]
    outputs: tuple[Variable, ...]
    output_style: Literal["none", "single", "tuple", "namedtuple"] = "single"
    requests: ResourcesSpec = _NO_RESOURCES
    limits: ResourcesSpec = _NO_RESOURCES
    interruptible: bool = False
    cache: CachePolicy = _NO_CACHE
    retries: int = 0
    timeout_seconds: int | None = None
    compute: Literal["auto", "lambda", "fargate", "batch"] = "auto"
    image: ImageRef | None = None
    actor: ActorRef | None = None
    secrets: tuple[SecretRequest, ...] = ()
    location: SourceLocation
    enable_deck: bool = False  # Flyte's: the task's Deck pages are stored (protocol.deck_key)

    @staticmethod
    def _trim(data: dict[str, Any]) -> dict[str, Any]:
        for optional in ("image", "actor"):
            if data.get(optional) is None:
                data.pop(optional, None)
        if not data.get("enable_deck"):
            data.pop("enable_deck", None)
        if not data.get("secrets"):
            data.pop("secrets", None)
        return data
