"""The task half of the IR: a task's interface (types, variables) and execution policy
(resources, cache, image, actor). Re-exported by ``_models``; a workflow's nodes live there.
"""

# No ``from __future__ import annotations``: pydantic would compile and evaluate every field's
# annotation text when the class is made (a fifth of building the IR at a run's start); a name
# defined further down is quoted instead.

import os
from enum import Enum
from typing import Any, Final, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, JsonValue, SerializerFunctionWrapHandler, model_serializer

from stratoflow.ir import _names

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


# Set by the test suite: every `trusted` construction is also validated, and must come out the same.
_CHECK_TRUSTED: Final = os.environ.get("STRATOFLOW_CHECK_IR") == "1"
_REQUIRED: Final = object()
_PLANS: dict[type, tuple[tuple[str, Any], ...]] = {}  # per model: (field, default or _REQUIRED), in order


class _Model(BaseModel):
    # defer_build: schemas are built on first use, not at `import stratoflow` (most of its time).
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    @classmethod
    def trusted(cls, **fields: Any) -> Self:
        """This model from values stratoflow computed itself (tracing, lowering), not validated again.

        A model's first validation builds its pydantic schema and loads pydantic's plugin
        registry: most of a small local run's time, spent on values that are already right.
        Callers pass exactly the field types (tuples, not lists). With STRATOFLOW_CHECK_IR=1
        (the test suite) every call is validated too and a difference raises TypeError.

        Example:
            >>> TypeRef.trusted(kind="list", args=(TypeRef.trusted(kind="int"),)).render()
            'list[int]'
        """
        plan = _PLANS.get(cls)
        if plan is None:
            plan = _PLANS[cls] = tuple(
                (name, _REQUIRED if info.is_required() else info.get_default(call_default_factory=True))
                for name, info in cls.__pydantic_fields__.items()
            )
        data: dict[str, Any] = {}
        given = 0
        for name, default in plan:
            if name in fields:
                data[name] = fields[name]
                given += 1
            elif default is _REQUIRED:
                raise TypeError(f"{cls.__name__}.trusted: missing field '{name}'")
            else:  # a fresh dict per instance, as validation gives; other defaults are immutable
                data[name] = dict(default) if isinstance(default, dict) else default
        if given != len(fields):
            raise TypeError(f"{cls.__name__}.trusted: unknown fields {sorted(fields.keys() - data.keys())}")
        built = cls.__new__(cls)
        object.__setattr__(built, "__dict__", data)
        object.__setattr__(built, "__pydantic_fields_set__", set(fields))
        object.__setattr__(built, "__pydantic_extra__", None)
        object.__setattr__(built, "__pydantic_private__", None)
        if _CHECK_TRUSTED:
            validated = cls(**fields)
            if validated.__dict__ != data or any(
                type(validated.__dict__[k]) is not type(v) for k, v in data.items()
            ):
                raise TypeError(
                    f"{cls.__name__}.trusted built {data!r}, validation gives {validated.__dict__!r}"
                )
        return built

    def plain(self) -> dict[str, Any]:
        """This model as JSON-ready dicts and lists, built without pydantic's serializer.

        For bookkeeping that only reads it back (the local run history keeps each run's spec for
        ``executions show`` and the UI): a model's first serialization builds its schema, which
        is most of a small run's time. ``model_validate`` of the result gives this model again
        (checked with STRATOFLOW_CHECK_IR=1); the bytes are not the canonical spec JSON, which
        names spec keys (``protocol.spec_json_bytes``).
        """
        data = {name: _plain(value) for name, value in self.__dict__.items()}
        if _CHECK_TRUSTED and type(self).model_validate(data) != self:
            raise TypeError(f"{type(self).__name__}.plain does not read back as the same model")
        return data


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return {name: _plain(item) for name, item in value.__dict__.items()}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


class SourceLocation(_Model):
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


class TypeRef(_Model):
    """A serialisable reference to a supported Python type.

    ``list`` has one arg (the item type), ``dict`` two (the key type: str, int, float, bool or an
    enum, and the value type),
    ``optional`` one; ``dataclass``, ``pydantic`` and ``enum`` carry the class import path in ``ref``.
    ``json`` is any JSON value: an untyped ``dict`` (Flyte's, stored as JSON) is ``dict[str, json]``.
    A table (``dataframe``, ``arrow_table``, ``structured_dataset``) may name ``columns`` (Flyte's
    ``Annotated[StructuredDataset, kwtypes(a=int)]``): its reader gets only those.
    """

    kind: TypeKind
    args: "tuple[TypeRef, ...]" = ()
    ref: str | None = None
    columns: "tuple[tuple[str, TypeRef], ...]" = ()

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


class SecretRequest(_Model):
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


class TaskSpec(_Model):
    """A task's interface and execution policy; the function is referenced by import path.

    ``image``, ``actor``, ``enable_deck`` and ``secrets`` are omitted from the JSON when unset, so specs that use
    none keep their bytes (and their spec keys).
    """

    name: str
    ref: str = Field(description="'module:qualname' of the user function")
    code_hash: str
    kind: Literal["task", "dynamic"] = "task"
    inputs: tuple[Variable, ...]
    outputs: tuple[Variable, ...]
    output_style: Literal["none", "single", "tuple", "namedtuple"] = "single"
    # trusted(): a default instance built when the class is, without building a schema for it.
    requests: ResourcesSpec = ResourcesSpec.trusted()
    limits: ResourcesSpec = ResourcesSpec.trusted()
    interruptible: bool = False
    cache: CachePolicy = CachePolicy.trusted()
    retries: int = 0
    timeout_seconds: int | None = None
    compute: Literal["auto", "lambda", "fargate", "batch"] = "auto"
    image: ImageRef | None = None
    actor: ActorRef | None = None
    secrets: tuple[SecretRequest, ...] = ()
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
        if not data.get("secrets"):
            data.pop("secrets", None)
        return data
