"""A stack whose workflow runs actor tasks: a queue and a worker task definition per environment.

The worker is a Fargate task definition (x86_64, non-root, read-only root, the scratch volume)
running ``stratoflow_functions.actor_worker`` with its queue and idle time in its environment;
the worker role consumes only its queue and answers task tokens; the runner may start only
that task definition in the stack's cluster; the workflow's role may only send to its queue;
cdk-nag and cfn-lint stay clean; and the synthesized stack, created in moto's CloudFormation,
runs the workflow's actor tasks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from infra.app import build_app
from infra.constructs.actor_pool import WORKER_COMMAND
from stratoflow.define import load_workflow
from stratoflow.ir import protocol
from stratoflow.lower import lower
from stratoflow.testing import StackSandbox
from tests.infra.synth import REPO, Synth, assert_cfn_lint_clean, assert_nag_clean, cdk_json_context
from tests.infra.test_stack import ALLOWED_CFN_LINT, _as_list, _statements

CASES = REPO / "tests" / "compile" / "cases"
STACK = "StratoflowActors"


@pytest.fixture(scope="module")
def actor_synth(tmp_path_factory: pytest.TempPathFactory, bundle_cache: Path) -> Synth:
    outdir = tmp_path_factory.mktemp("cdk-actors")
    context = {
        **cdk_json_context(),
        "stratoflow:workflows": [f"{CASES / 'actor.py'}:actor"],
        "stratoflow:stackName": STACK,
        "stratoflow:runnerDependencies": "fake-for-tests",
        "stratoflow:bundleCacheDir": str(bundle_cache),
    }
    build_app(cdk.App(context=context, outdir=str(outdir))).synth()
    path = outdir / f"{STACK}.template.json"
    return Synth(outdir=outdir, template=json.loads(path.read_text()), template_path=path)


def _worker(synth: Synth) -> tuple[dict[str, Any], dict[str, Any]]:
    (task_definition,) = synth.resources("AWS::ECS::TaskDefinition").values()
    (container,) = task_definition["Properties"]["ContainerDefinitions"]
    return task_definition["Properties"], container


def _sids(synth: Synth, prefix: str) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for lid, s in _statements(synth) if lid.startswith(prefix) and "Sid" in s}


def test_one_queue_and_one_hardened_worker_task_definition(actor_synth: Synth) -> None:
    (queue,) = actor_synth.resources("AWS::SQS::Queue").values()
    assert queue["Properties"]["SqsManagedSseEnabled"] is True
    props, container = _worker(actor_synth)
    assert props["RuntimePlatform"]["CpuArchitecture"] == "X86_64"
    assert container["Command"] == list(WORKER_COMMAND)
    assert container["ReadonlyRootFilesystem"] is True
    assert container["User"] != "0" and not container["User"].startswith("0:")
    env = {e["Name"]: e["Value"] for e in container["Environment"]}
    assert env[protocol.ENV_ACTOR_NAME] == "scorers"
    assert env[protocol.ENV_ACTOR_TTL_SECONDS] == "60"
    assert protocol.ENV_ACTOR_QUEUE in env and "TMPDIR" in env
    assert container["StopTimeout"] == 120  # Spot's warning: the task in flight may finish


def test_the_worker_role_consumes_its_queue_and_answers_tokens(actor_synth: Synth) -> None:
    statements = _sids(actor_synth, "RuntimeActorActorsWorkerRolescorers")
    answer = statements["AnswerTaskTokens"]
    assert sorted(_as_list(answer["Action"])) == [
        "states:SendTaskFailure",
        "states:SendTaskHeartbeat",
        "states:SendTaskSuccess",
    ]
    every = [
        s for lid, s in _statements(actor_synth) if lid.startswith("RuntimeActorActorsWorkerRolescorers")
    ]
    actions = {a for s in every for a in _as_list(s["Action"])}
    assert "sqs:ReceiveMessage" in actions and "sqs:DeleteMessage" in actions
    assert "sqs:SendMessage" not in actions
    assert not any(a.startswith("ecs:") for a in actions)


def test_the_runner_starts_only_the_worker_task_definition(actor_synth: Synth) -> None:
    statements = _sids(actor_synth, "RuntimeActorRunner")
    start = statements["StartActorWorkers"]
    assert _as_list(start["Action"]) == ["ecs:RunTask"]
    (worker_id,) = actor_synth.resources("AWS::ECS::TaskDefinition")
    assert start["Resource"] == {"Ref": worker_id}
    assert "ecs:cluster" in start["Condition"]["ArnEquals"]
    assert "ecs:cluster" in statements["CountActorWorkers"]["Condition"]["ArnEquals"]
    assert statements["PassActorWorkerRoles"]["Condition"]["StringEquals"] == {
        "iam:PassedToService": "ecs-tasks.amazonaws.com"
    }
    (function,) = [
        f
        for lid, f in actor_synth.resources("AWS::Lambda::Function").items()
        if lid.startswith("RuntimeActorRunner")
    ]
    assert protocol.ENV_ACTORS in function["Properties"]["Environment"]["Variables"]


def test_the_workflow_may_only_send_to_its_queue(actor_synth: Synth) -> None:
    statements = _sids(actor_synth, "WorkflowActor")
    send = statements["SendActorTasks"]
    assert _as_list(send["Action"]) == ["sqs:SendMessage"]
    (queue_id,) = actor_synth.resources("AWS::SQS::Queue")
    assert send["Resource"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    assert "RunTaskDefinitions" not in statements  # the workflow itself starts no container


def test_cdk_nag_found_nothing_unacknowledged(actor_synth: Synth) -> None:
    assert_nag_clean(actor_synth)


def test_cfn_lint_passes(actor_synth: Synth) -> None:
    assert_cfn_lint_clean(actor_synth, ALLOWED_CFN_LINT)


@pytest.mark.emulated
def test_the_synthesized_stack_runs_actor_tasks_in_emulated_aws(actor_synth: Synth) -> None:
    """What the stack wires (queue URLs, ENV_ACTORS, the worker's environment) runs as deployed."""
    spec = lower(load_workflow(str(CASES / "actor.py"), "actor"))
    with StackSandbox(project_dir=REPO, template_dir=actor_synth.outdir, stack_name=STACK) as stack:
        assert "AWS::SQS::QueuePolicy" in stack.deployment.skipped_resource_types  # moto lacks it
        assert stack.run(spec, {"n": 12}, timeout=60).outputs() == {"o0": [3 * x for x in range(12)]}
