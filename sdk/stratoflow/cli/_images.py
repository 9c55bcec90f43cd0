"""``stratoflow images ls | build``: the images a workflow needs, and their build contexts.

``ls`` prints one line per distinct image (tag, name or URI, platforms, tasks, packages).
``build`` stages each ``ImageSpec`` image's context (the Dockerfile ``cdk deploy`` would build)
and runs ``docker build`` per platform where Docker exists; without Docker it is a one-line
error (exit 2) after staging, so the contexts can still be inspected or built elsewhere.
With no FILE_OR_MODULE, the workflows (and Lambda architecture) are cdk.json's.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from stratoflow import ir
from stratoflow.errors import ConfigError

__all__ = ["add_images_parser", "cmd_images"]

DEFAULT_OUTPUT = ".stratoflow/images"
_CONTEXT_WORKFLOWS = "stratoflow:workflows"
_CONTEXT_ARCHITECTURE = "stratoflow:lambdaArchitecture"


def add_images_parser(commands: Any) -> None:
    """Add ``images ls | build`` to the ``stratoflow`` sub-commands (options before FILE_OR_MODULE)."""
    images = commands.add_parser("images", allow_abbrev=False, help="list or build the task images")
    actions = images.add_subparsers(dest="action", required=True)
    for action, text in (
        ("ls", "list the images the workflows need"),
        ("build", "stage and docker-build them"),
    ):
        sub = actions.add_parser(action, allow_abbrev=False, help=text)
        sub.add_argument(
            "--lambda-architecture",
            choices=["arm64", "x86_64"],
            default=None,
            help="platform of Lambda tasks' images (default: cdk.json's, else arm64)",
        )
        if action == "ls":
            sub.add_argument("--json", action="store_true", help="print the images as JSON")
        else:
            sub.add_argument("--output", default=DEFAULT_OUTPUT, help=f"where contexts go ({DEFAULT_OUTPUT})")
        sub.add_argument(
            "where",
            nargs="*",
            metavar="FILE_OR_MODULE [WORKFLOW]",
            help="default: cdk.json's workflows; WORKFLOW defaults to every workflow of the file",
        )


def _specs(args: argparse.Namespace) -> tuple[list[ir.WorkflowSpec], list[Path], str]:
    """The workflows' IR, their module files, and the Lambda architecture."""
    from stratoflow.define import load_workflow, load_workflows  # noqa: PLC0415
    from stratoflow.lower import lower  # noqa: PLC0415

    architecture = args.lambda_architecture
    if len(args.where) > 2:
        raise ConfigError(
            f"images {args.action}: expected FILE_OR_MODULE [WORKFLOW], got {' '.join(args.where)}"
        )
    if args.where:
        target, workflow = args.where[0], args.where[1] if len(args.where) > 1 else None
        workflows = [load_workflow(target, workflow)] if workflow else load_workflows(target)
        return [lower(wf) for wf in workflows], _module_files([target]), architecture or "arm64"
    cdk_json = Path("cdk.json")
    if not cdk_json.is_file():
        raise ConfigError("images: name a FILE_OR_MODULE, or run where cdk.json lists the workflows")
    context = json.loads(cdk_json.read_text()).get("context", {})
    specs, wheres = [], []
    for target in context.get(_CONTEXT_WORKFLOWS, []):
        where, _, name = str(target).rpartition(":")
        specs.append(lower(load_workflow(where, name)))
        wheres.append(where)
    return specs, _module_files(wheres), architecture or context.get(_CONTEXT_ARCHITECTURE) or "arm64"


def _module_files(targets: list[str]) -> list[Path]:
    """The files a context copies for these FILE_OR_MODULE targets (as the Lambda bundle does)."""
    import importlib.util  # noqa: PLC0415

    files = set()
    for target in targets:
        if target.endswith(".py") or Path(target).is_file():
            files.add(Path(target).resolve())
            continue
        found = importlib.util.find_spec(target)
        if found is not None and found.origin and not found.submodule_search_locations:
            files.add(Path(found.origin))
    return sorted(files)


def _describe(use: Any) -> dict[str, Any]:
    image: ir.ImageRef = use.image
    return {
        "tag": image.tag,
        "name": image.uri or image.name,
        "prebuilt": image.uri is not None,
        "platforms": list(use.platforms),
        "tasks": list(use.tasks),
        "packages": list(image.packages),
        "apt_packages": list(image.apt_packages),
        "requirements": image.requirements,
    }


def cmd_images(args: argparse.Namespace) -> int:
    """Run ``stratoflow images ls | build``."""
    from stratoflow.backends import image  # noqa: PLC0415

    specs, files, architecture = _specs(args)
    uses = image.images_of(specs, lambda_architecture=architecture)
    if args.action == "ls":
        rows = [_describe(use) for use in uses]
        if args.json:
            print(json.dumps(rows, indent=2))
            return 0
        if not rows:
            print("no task has an image of its own (every task runs in the shared bundle)")
        for row in rows:
            packages = " ".join(row["packages"]) or "-"
            apt = f"  apt: {' '.join(row['apt_packages'])}" if row["apt_packages"] else ""
            reqs = f"  requirements: {row['requirements']}" if row["requirements"] else ""
            print(
                f"{row['tag']}  {row['name']}  platforms: {','.join(row['platforms'])}  "
                f"tasks: {','.join(row['tasks'])}  packages: {packages}{apt}{reqs}"
            )
        return 0
    output = Path(args.output)
    builds: list[tuple[Any, str, Path]] = []
    for use in uses:
        if use.image.uri is not None:
            print(f"{use.tag}  {use.image.uri}: prebuilt, nothing to build")
            continue
        context = image.stage_context(use.image, sources=image.runtime_sources(files), cache_dir=output)
        print(f"{use.tag}  {use.image.name}: context {context.path}")
        builds.extend((use, platform, context.path) for platform in use.platforms)
    docker = shutil.which("docker")
    if builds and docker is None:
        raise ConfigError(
            f"images build: Docker is not installed (no `docker` on PATH); the build contexts are staged under {output}"
        )
    for use, platform, path in builds:
        name = f"stratoflow-{use.image.name}:{use.tag}-{platform.rsplit('/', 1)[-1]}"
        command = [str(docker), "build", "--platform", platform, "--tag", name, str(path)]
        if subprocess.run(command, check=False).returncode != 0:  # noqa: S603 - docker, our arguments
            raise ConfigError(f"images build: docker build of {name} failed (see its output above)")
        print(f"built {name}")
    return 0
