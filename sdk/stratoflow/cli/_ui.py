"""``stratoflow ui [--port N] [--host HOST] [--remote --stack NAME]``: the web UI over the runs."""

from __future__ import annotations

import argparse
from typing import Any

from stratoflow.errors import ConfigError

__all__ = ["DEFAULT_PORT", "add_ui_parser", "cmd_ui"]

DEFAULT_PORT = 8265


def add_ui_parser(commands: Any) -> None:
    """The ``ui`` sub-command."""
    ui = commands.add_parser("ui", allow_abbrev=False, help="serve a web UI of the runs (local by default)")
    ui.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any free one)"
    )
    ui.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    ui.add_argument("--remote", action="store_true", help="the deployed stack's executions")
    ui.add_argument("--stack", default="Stratoflow", help="with --remote: the stack's name")


def cmd_ui(args: argparse.Namespace) -> int:
    """Serve until interrupted (Ctrl-C ends it with exit code 0)."""
    try:
        from stratoflow import ui  # noqa: PLC0415 - Starlette only for this command
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"stratoflow ui needs the 'ui' extra ({exc.name} is not installed): pip install 'stratoflow[ui]'"
        ) from exc
    source: ui.RunSource
    if args.remote:
        import boto3  # type: ignore[import-untyped]  # noqa: PLC0415 - only for remote runs

        from stratoflow.client import Client  # noqa: PLC0415

        session = boto3.Session()
        client = Client.from_stack(args.stack, session=session)
        source = ui.RemoteSource(client, stack=args.stack, cloudwatch=session.client("logs"))
    else:
        from stratoflow.cache import default_home  # noqa: PLC0415

        source = ui.LocalSource(default_home())
    try:
        ui.serve(source, host=args.host, port=args.port)
    except OSError as exc:
        raise ConfigError(f"stratoflow ui: cannot listen on {args.host}:{args.port}: {exc.strerror}") from exc
    except KeyboardInterrupt:
        pass
    return 0
