"""``flytekit.extras.tasks.shell`` under stratoflow: ``ShellTask``, a task that is a shell script.

The script is a Python format string, as in flytekit: ``{inputs.x}`` is input ``x`` (a File or
Directory as its local path, a datetime in ISO form, anything else as ``str``), ``{outputs.y}``
the path output ``y`` is read from, ``{ctx.working_directory}`` the attempt's scratch folder
(write ``{{`` and ``}}`` for literal braces). The script runs with ``shell`` (``/bin/sh`` by
default, as flytekit's), in the attempt's working directory, which relative output locations
are also resolved against. Input files and directories are private copies there, so a script
that edits one (flytekit's examples append to ``{inputs.x}``) changes no other task's input.

A name the script or a location uses that is not an input (or an output), an output that is not
a File or Directory, and ``script`` with ``script_file`` are definition errors at the line that
made the task. A non-zero exit fails the task with a ``FlyteRecoverableException`` (flytekit's,
so it is retried) whose message ends with the tail of the script's stderr; an output the script
did not write fails it too.

Example:
    >>> from stratoflow import kwtypes
    >>> from stratoflow.types.file import FlyteFile
    >>> count = ShellTask(
    ...     name="count",
    ...     script="wc -l < {inputs.f} > {outputs.n}",
    ...     inputs=kwtypes(f=FlyteFile),
    ...     output_locs=[OutputLocation(var="n", var_type=FlyteFile, location="n.txt")],
    ... )
"""

from __future__ import annotations

import datetime
import os
import shutil
import string
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stratoflow import ir, values
from stratoflow.define import TaskDef, current_context
from stratoflow.define._interface import Interface
from stratoflow.define._location import caller_location
from stratoflow.define._task import declared_options, declared_spec
from stratoflow.exceptions.user import FlyteRecoverableException
from stratoflow.values import Directory, File

__all__ = ["OutputLocation", "ProcessResult", "ShellTask", "subproc_execute"]

_STDERR_TAIL_LINES = 10
_STDERR_TAIL_CHARS = 2000


@dataclass
class ProcessResult:
    """A finished script: its exit code, standard output and standard error (flytekit's)."""

    returncode: int
    output: str
    error: str


@dataclass
class OutputLocation:
    """Where output ``var`` (a File or Directory type) is read from after the script ran (flytekit's).

    ``location`` is a template like the script (``"{inputs.x}.tar.gz"``); a relative one is in the
    attempt's working directory.
    """

    var: str
    var_type: type
    location: os.PathLike[str] | str


def subproc_execute(command: list[str] | str, **kwargs: Any) -> ProcessResult:
    """Run ``command`` and return its exit code and output; a failure raises (flytekit's helper).

    Example:
        >>> subproc_execute(["echo", "hi"]).output
        'hi\n'
    """
    options: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True, **kwargs}
    try:
        done = subprocess.run(command, check=True, **options)  # noqa: S603 - the user's own command
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(
            f"Command: {exc.cmd}\nFailed with return code {exc.returncode}:\n{exc.stderr}"
        ) from exc
    except FileNotFoundError as exc:
        raise RuntimeError(
            f"Process failed because the executable could not be found; does the task's container_image "
            f"have it? ({exc})"
        ) from exc
    return ProcessResult(done.returncode, done.stdout, done.stderr)


class _Namespace(dict[str, Any]):
    """``inputs.x`` in a template: attribute access over a dict (flytekit's AttrDict)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(name) from exc


class _Formatter(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> Any:
        if isinstance(value, File | Directory):
            return value.download()
        if isinstance(value, datetime.datetime):
            return value.isoformat()
        return super().format_field(value, format_spec)


def _template_problems(template: str, what: str, inputs: set[str], outputs: set[str] | None) -> list[str]:
    """What a template names that does not exist (``outputs`` None: a location, which may not name any)."""
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        return [f"{what} is not a valid template ({exc}; write {{{{ and }}}} for literal braces)"]
    problems = []
    for field in fields:
        root, _, rest = field.partition(".")
        member = rest.split(".", 1)[0].split("[", 1)[0]
        if root == "inputs" and member not in inputs:
            problems.append(f"{what} uses {{{field}}}, but there is no input '{member}'")
        elif root == "outputs" and (outputs is None or member not in outputs):
            where = "a location may not use outputs" if outputs is None else f"no output '{member}'"
            problems.append(f"{what} uses {{{field}}}, but {where}")
        elif root not in ("inputs", "outputs", "ctx"):
            problems.append(f"{what} uses {{{field}}}: only inputs.<name>, outputs.<name> and ctx.<attr>")
    return problems


def _check(
    *,
    name: str,
    script: str | None,
    script_file: str | None,
    task_config: object,
    inputs: dict[str, type],
    output_locs: list[OutputLocation],
    problems: list[str],
) -> tuple[list[ir.Variable], list[ir.Variable], str]:
    what = f"shell task '{name}'"
    text = script or ""
    if script and script_file:
        problems.append(f"{what}: give script or script_file, not both")
    elif not script and not script_file:
        problems.append(f"{what} needs a script or a script_file")
    elif script_file:
        try:
            text = Path(script_file).read_text(encoding="utf-8")
        except OSError as exc:
            problems.append(f"{what}: script_file {script_file} cannot be read ({exc.strerror})")
    if task_config is not None:
        problems.append(f"{what}: task_config (a Pod) is not supported; use requests= and container_image=")
    in_vars = []
    for input_name, hint in inputs.items():
        try:
            in_vars.append(ir.Variable(name=input_name, type=values.typeref_of(hint)))
        except values.UnsupportedTypeError as exc:
            problems.append(f"{what} input '{input_name}': {exc}")
    out_vars = []
    for loc in output_locs:
        if not isinstance(loc, OutputLocation):
            problems.append(f"{what}: every output_locs item must be an OutputLocation, not {loc!r}")
            continue
        if not (isinstance(loc.var_type, type) and issubclass(loc.var_type, File | Directory)):
            shown = getattr(loc.var_type, "__name__", repr(loc.var_type))
            problems.append(
                f"{what} output '{loc.var}' is a {shown}; outputs are FlyteFile or FlyteDirectory"
            )
            continue
        kind: ir.TypeKind = "file" if issubclass(loc.var_type, File) else "directory"
        out_vars.append(ir.Variable(name=loc.var, type=ir.TypeRef(kind=kind)))
        problems.extend(
            _template_problems(
                os.fspath(loc.location), f"{what} output '{loc.var}' location", set(inputs), None
            )
        )
    outputs = {loc.var for loc in output_locs if isinstance(loc, OutputLocation)}
    problems.extend(_template_problems(text, f"{what} script", set(inputs), outputs))
    return in_vars, out_vars, text


class ShellTask(TaskDef[..., Any]):
    """flytekit's ``ShellTask``: a script with typed ``inputs`` (``kwtypes``) and File/Directory outputs.

    Other keywords are ``@task``'s options (``requests``, ``retries``, ``cache``, ``container_image``,
    ``compute``, ...).

    Example:
        >>> from stratoflow import kwtypes
        >>> hello = ShellTask(name="hello", script="echo {inputs.who}", inputs=kwtypes(who=str))
        >>> hello(who="world")
        world
    """

    _script: str
    _shell: str
    _debug: bool
    _output_locs: list[OutputLocation]
    _result: ProcessResult | None

    def __init__(  # noqa: PLR0917 - flytekit's signature, positional arguments and all
        self,
        name: str,
        debug: bool = False,
        script: str | None = None,
        script_file: str | None = None,
        task_config: object = None,
        shell: str = "/bin/sh",
        inputs: dict[str, type] | None = None,
        output_locs: list[OutputLocation] | None = None,
        **kwargs: Any,
    ) -> None:
        made_at = caller_location()
        module = sys._getframe(1).f_globals.get("__name__", "__main__")
        phrases: list[str] = []
        in_vars, out_vars, text = _check(
            name=name,
            script=script,
            script_file=script_file,
            task_config=task_config,
            inputs=dict(inputs or {}),
            output_locs=list(output_locs or []),
            problems=phrases,
        )
        options = declared_options(f"shell task '{name}'", name, kwargs, phrases, made_at)
        # TaskDef is frozen: these are set once, here (and the last result by execute).
        object.__setattr__(self, "_script", text)
        object.__setattr__(self, "_shell", shell)
        object.__setattr__(self, "_debug", debug)
        object.__setattr__(self, "_output_locs", list(output_locs or []))
        object.__setattr__(self, "_result", None)
        style = "none" if not out_vars else "single" if len(out_vars) == 1 else "tuple"
        interface = Interface(tuple(in_vars), tuple(out_vars), style)  # type: ignore[arg-type]
        # The script is the code: editing it (or where outputs are read) changes the cache version.
        locations = [(o.var, os.fspath(o.location)) for o in output_locs or []]
        identity = repr((text, shell, locations))
        spec = declared_spec(
            name,
            module,
            identity=identity,
            interface=interface,
            made_at=made_at,
            options=options,
            run=self.execute,
        )
        super().__init__(fn=self.execute, spec=spec, interface=interface, options=options)

    @property
    def script(self) -> str:
        """The script template."""
        return self._script

    @property
    def result(self) -> ProcessResult | None:
        """The last run's exit code and output (flytekit's)."""
        return self._result

    def execute(self, **kwargs: Any) -> Any:
        """Run the script on ``kwargs`` and return its outputs (a File/Directory, a tuple of them, or None)."""
        ctx = current_context()
        workdir = Path(ctx.working_directory)
        # Called outside a run, a File input may be a plain path: as the run would give it.
        kwargs = {v.name: values.coerce_input(kwargs[v.name], v.type) for v in self.spec.inputs}
        inputs = _Namespace({k: _private_copy(v, workdir / "inputs" / k) for k, v in kwargs.items()})
        formatter = _Formatter()
        outputs = _Namespace()
        for loc in self._output_locs:
            path = Path(formatter.format(os.fspath(loc.location), inputs=inputs, outputs={}, ctx=ctx))
            outputs[loc.var] = str(path if path.is_absolute() else workdir / path)
        script = formatter.format(self._script, inputs=inputs, outputs=outputs, ctx=ctx)
        if self._debug:
            print(f"\n{'=' * 46}\n{script}\n{'=' * 46}\n")
        done = subprocess.run(  # noqa: S603 - the user's own script, run as flytekit runs it
            [self._shell, "-c", script], cwd=workdir, capture_output=True, text=True, check=False
        )
        sys.stdout.write(done.stdout)  # the node's log, as flytekit prints it
        sys.stderr.write(done.stderr)
        object.__setattr__(self, "_result", ProcessResult(done.returncode, done.stdout, done.stderr))
        if done.returncode != 0:
            raise FlyteRecoverableException(
                f"shell task '{self.name}' failed with exit code {done.returncode}: {_tail(done.stderr)}"
            )
        return self._collect(outputs)

    def _collect(self, outputs: dict[str, str]) -> Any:
        found: list[File | Directory] = []
        for loc in self._output_locs:
            path = Path(outputs[loc.var])
            is_file = issubclass(loc.var_type, File)
            if not (path.is_file() if is_file else path.is_dir()):
                what = "file" if is_file else "directory"
                raise FlyteRecoverableException(
                    f"shell task '{self.name}' output '{loc.var}': the script wrote no {what} at {path}"
                )
            found.append(File(path) if is_file else Directory(path))
        return self.interface.shape(found)


def _private_copy(value: Any, dest: Path) -> Any:
    """A File/Directory input copied into the working directory (the script may change it)."""
    if not isinstance(value, File | Directory):
        return value
    source = Path(value.download())
    target = dest / (value.name or source.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(value, Directory):
        shutil.copytree(source, target)
        return Directory(target)
    shutil.copyfile(source, target)
    return File(target)


def _tail(stderr: str) -> str:
    """The last lines of the script's stderr, on one line."""
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    if not lines:
        return "(no stderr)"
    text = " | ".join(lines[-_STDERR_TAIL_LINES:])
    return text if len(text) <= _STDERR_TAIL_CHARS else "..." + text[-_STDERR_TAIL_CHARS:]
