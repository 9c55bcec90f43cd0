"""`--remote` on a machine without AWS set up (issue 14): one line saying what is missing, exit 2.

No AWS is contacted: region and credentials are looked up locally and found missing first.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

EXE = str(Path(sys.executable).with_name("stratoflow"))
FLOWS = str(REPO / "tests" / "local" / "_cli_flows.py")


@pytest.fixture
def no_aws(subprocess_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in subprocess_env.items() if not k.startswith("AWS_")}
    env.update(
        AWS_CONFIG_FILE=str(tmp_path / "no-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        AWS_EC2_METADATA_DISABLED="true",  # do not wait for an instance-metadata endpoint
    )
    return env


def run(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *argv], capture_output=True, text=True, timeout=120, check=False, env=env)


REGION = (
    "error: --remote: no AWS region is configured (set AWS_DEFAULT_REGION, or a region in ~/.aws/config)\n"
)
CREDENTIALS = (
    "error: --remote: no AWS credentials found (run `aws configure`, or set AWS_PROFILE, "
    "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)\n"
)


def test_run_remote_without_a_region(no_aws: dict[str, str]) -> None:
    proc = run(no_aws, "run", "--remote", FLOWS, "echoed", "--text", "hi")
    assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", REGION)


def test_executions_ls_remote_without_a_region(no_aws: dict[str, str]) -> None:
    proc = run(no_aws, "executions", "ls", "--remote")
    assert (proc.returncode, proc.stderr) == (2, REGION)


def test_executions_ls_remote_without_credentials(no_aws: dict[str, str]) -> None:
    proc = run({**no_aws, "AWS_DEFAULT_REGION": "eu-west-1"}, "executions", "ls", "--remote")
    assert (proc.returncode, proc.stderr) == (2, CREDENTIALS)


def test_remote_with_an_unknown_profile(no_aws: dict[str, str]) -> None:
    env = {**no_aws, "AWS_DEFAULT_REGION": "eu-west-1", "AWS_PROFILE": "nope"}
    proc = run(env, "run", "--remote", FLOWS, "echoed", "--text", "hi")
    assert (proc.returncode, proc.stderr) == (
        2,
        "error: --remote: The config profile (nope) could not be found\n",
    )


def test_other_errors_are_not_turned_into_setup_messages() -> None:
    from botocore.exceptions import ClientError, NoRegionError

    from stratoflow.cli._main import _aws_setup_error

    denied = ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "ListStacks")
    assert _aws_setup_error(denied) is None
    assert _aws_setup_error(ValueError("NoRegionError")) is None
    assert _aws_setup_error(NoRegionError()) == REGION.removeprefix("error: --remote: ").rstrip("\n")
