"""A stack whose workflow routes tasks to AWS Batch: compute environments, queues and job
definitions for exactly the shapes in use, least-privilege IAM, cdk-nag and cfn-lint clean.

Synthesized once per module, in a bare App through ``build_app`` (so cdk-nag runs), from the
golden case ``tests/compile/cases/batch.py`` (a cached GPU task, an interruptible GPU task, an
A100 task, an oversize CPU task). The cdk.json app, which routes nothing to Batch, has no Batch resources.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam

from infra.app import build_app
from infra.constructs import BatchCompute, BatchPool, BatchShape, PropsError
from stratoflow.backends import asl
from stratoflow.define import load_workflow
from stratoflow.lower import lower
from tests.infra.synth import REPO, Synth, cdk_json_context
from tests.infra.test_stack import ALLOWED_CFN_LINT, RESOURCE_STAR_ACTIONS, _as_list, _cfn_lint, _statements

CASE = REPO / "tests" / "compile" / "cases" / "batch.py"
STACK = "StratoflowBatch"
BATCH_TYPES = ("AWS::Batch::ComputeEnvironment", "AWS::Batch::JobQueue", "AWS::Batch::JobDefinition")


@pytest.fixture(scope="module")
def compiled() -> asl.CompiledWorkflow:
    return asl.compile_workflow(lower(load_workflow(str(CASE), "batch")))


@pytest.fixture(scope="module")
def batch_synth(tmp_path_factory: pytest.TempPathFactory, bundle_cache: Path) -> Synth:
    outdir = tmp_path_factory.mktemp("cdk-batch")
    context = {
        **cdk_json_context(),
        "stratoflow:workflows": [f"{CASE}:batch"],
        "stratoflow:stackName": STACK,
        "stratoflow:runnerDependencies": "fake-for-tests",
        "stratoflow:bundleCacheDir": str(bundle_cache),
    }
    build_app(cdk.App(context=context, outdir=str(outdir))).synth()
    path = outdir / f"{STACK}.template.json"
    return Synth(outdir=outdir, template=json.loads(path.read_text()), template_path=path)


def _by_suffix(resources: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in resources.items()}


def test_the_cdk_json_app_routes_nothing_to_batch_so_has_no_batch_resources(synth: Synth) -> None:
    for type_ in BATCH_TYPES:
        assert synth.resources(type_) == {}, type_
    assert "BatchQueue_" not in json.dumps(synth.template)


def test_compute_environments_scale_to_zero_one_on_demand_one_spot_per_pool(batch_synth: Synth) -> None:
    environments = batch_synth.resources("AWS::Batch::ComputeEnvironment")
    resources = {
        (tuple(p["ComputeResources"]["InstanceTypes"]), p["ComputeResources"]["Type"]): p["ComputeResources"]
        for p in _by_suffix(environments).values()
    }
    # GPU pool (both capacities: finetune is interruptible), the A100 pool and the CPU pool
    # (on-demand only). join's 256 GiB leaves out c6i (256 GiB nominal, less the agent's share).
    gpu, cpu = ("g4dn", "g5", "g6"), ("m6i", "r6i", "m7i", "c7i", "r7i", "x2iedn")
    assert set(resources) == {(gpu, "EC2"), (gpu, "SPOT"), (("p4d",), "EC2"), (cpu, "EC2")}
    for (families, capacity), props in resources.items():
        assert props["MinvCpus"] == 0
        assert props["MaxvCpus"] == 256
        assert props["AllocationStrategy"] == (
            "SPOT_PRICE_CAPACITY_OPTIMIZED" if capacity == "SPOT" else "BEST_FIT_PROGRESSIVE"
        )
        image_types = [c["ImageType"] for c in props["Ec2Configuration"]]
        assert image_types == (["ECS_AL2"] if families == cpu else ["ECS_AL2_NVIDIA"])
        assert len(props["Subnets"]) == 2
        assert len(props["SecurityGroupIds"]) == 1
    for props in _by_suffix(environments).values():
        assert props["Type"] == "managed"
    assert len(batch_synth.resources("AWS::Batch::JobQueue")) == 4


def test_one_job_definition_per_shape_with_the_fargate_image_and_task_role(batch_synth: Synth) -> None:
    definitions = _by_suffix(batch_synth.resources("AWS::Batch::JobDefinition"))
    shapes = {}
    for props in definitions.values():
        container = props["ContainerProperties"]
        requirements = {r["Type"]: r["Value"] for r in container["ResourceRequirements"]}
        shapes[(requirements["VCPU"], requirements["MEMORY"], requirements.get("GPU"))] = container
        assert props["Type"] == "container"
        assert container["Command"] == ["python", "-m", "stratoflow_functions.container_entrypoint"]
        assert container["JobRoleArn"]["Fn::GetAtt"][0].startswith(
            "RuntimeBatchTasksTaskRole"
        )  # the workflow's own
        assert {e["Name"] for e in container["Environment"]} >= {
            "STRATOFLOW_BUCKET",
            "STRATOFLOW_CACHE_TABLE",
        }
        assert not props.get("RetryStrategy")  # the state machine retries
    assert set(shapes) == {
        ("4", "16384", "1"),
        ("1", "2048", "1"),
        ("8", "65536", "2"),
        ("32", "262144", None),
    }
    task_definitions = batch_synth.resources("AWS::ECS::TaskDefinition")
    assert task_definitions == {}  # no Fargate node: the VPC and task role serve Batch alone
    images = {json.dumps(c["Image"], sort_keys=True) for c in shapes.values()}
    assert len(images) == 1


def test_jobs_run_unprivileged_on_a_read_only_root_with_a_scratch_tmpdir(batch_synth: Synth) -> None:
    definitions = batch_synth.resources("AWS::Batch::JobDefinition")
    assert definitions
    for logical_id, resource in definitions.items():
        container = resource["Properties"]["ContainerProperties"]
        assert container["User"] == "1000:1000", logical_id
        assert container["ReadonlyRootFilesystem"] is True, logical_id
        # An empty Host: Docker picks the host path, and the data volume ends with the job.
        assert container["Volumes"] == [{"Host": {}, "Name": "scratch"}]
        (mount,) = container["MountPoints"]  # ReadOnly left out: Batch's default, false
        assert (mount["ContainerPath"], mount["SourceVolume"], mount.get("ReadOnly", False)) == (
            "/scratch",
            "scratch",
            False,
        )
        assert {"Name": "TMPDIR", "Value": "/scratch"} in container["Environment"]
        assert not container.get("Privileged")
    (group,) = batch_synth.resources("AWS::EC2::SecurityGroup").values()
    assert [
        (r["IpProtocol"], r["FromPort"], r["ToPort"]) for r in group["Properties"]["SecurityGroupEgress"]
    ] == [("tcp", 443, 443)]


def test_substitutions_fill_every_placeholder(batch_synth: Synth, compiled: asl.CompiledWorkflow) -> None:
    (machine,) = batch_synth.resources("AWS::StepFunctions::StateMachine").values()
    substitutions = machine["Properties"]["DefinitionSubstitutions"]
    assert set(substitutions) == set(compiled.placeholders)
    assert {
        "BatchQueue_gpu_ondemand",
        "BatchQueue_gpu_spot",
        "BatchQueue_cpu_ondemand",
        "BatchQueue_p4d_ondemand",
        "BatchJobDef_vcpu8_mem65536_gpu2",
        "BatchJobDef_vcpu4_mem16384_gpu1",
        "BatchJobDef_vcpu1_mem2048_gpu1",
        "BatchJobDef_vcpu32_mem262144",
    } <= set(substitutions)
    assert json.dumps(substitutions["BatchQueue_gpu_spot"]).count("BatchQueuegpuspot") == 1
    assert machine["Properties"]["DefinitionString"] == compiled.deployed_json()


def _workflow_statements(synth: Synth) -> dict[str, dict[str, Any]]:
    return {
        s["Sid"]: s
        for logical_id, s in _statements(synth)
        if logical_id.startswith("WorkflowBatchRole") and "Sid" in s
    }


def test_state_machine_submits_only_to_its_queues_and_definitions(batch_synth: Synth) -> None:
    statements = _workflow_statements(batch_synth)
    submit = statements["SubmitBatchJobs"]
    assert _as_list(submit["Action"]) == ["batch:SubmitJob"]
    resources = sorted(json.dumps(r) for r in submit["Resource"])
    assert len(resources) == 8  # four queues, four job definitions
    assert sum('"BatchQueue' in r for r in resources) == 4, resources
    assert sum('"RuntimeBatchJobsBatchJobDef' in r for r in resources) == 4, resources
    assert _as_list(statements["TerminateBatchJobs"]["Action"]) == ["batch:TerminateJob"]
    assert _as_list(statements["DescribeBatchJobs"]["Action"]) == ["batch:DescribeJobs"]
    rule = json.dumps(statements["SyncBatchEventsRule"]["Resource"])
    assert "rule/StepFunctionsGetEventsForBatchJobsRule" in rule


def test_no_wildcard_actions_and_resource_star_only_for_describe_jobs(batch_synth: Synth) -> None:
    for logical_id, statement in _statements(batch_synth):
        actions = _as_list(statement["Action"])
        assert all("*" not in action for action in actions), (logical_id, actions)
        if "*" in _as_list(statement["Resource"]):
            assert set(actions) <= RESOURCE_STAR_ACTIONS | {"batch:DescribeJobs"}, (logical_id, actions)


def test_instance_roles_use_the_ecs_instance_policy_only(batch_synth: Synth) -> None:
    managed = {
        k: v["Properties"]["ManagedPolicyArns"]
        for k, v in batch_synth.resources("AWS::IAM::Role").items()
        if k.startswith("Batch") and v["Properties"].get("ManagedPolicyArns")
    }
    assert len(managed) == 4  # one per compute environment
    for arns in managed.values():
        assert "AmazonEC2ContainerServiceforEC2Role" in json.dumps(arns)
        assert len(arns) == 1


def test_cdk_nag_found_nothing_unacknowledged(batch_synth: Synth) -> None:
    report = json.loads((batch_synth.outdir / "validation-report.json").read_text())
    (plugin,) = report["pluginReports"]
    assert plugin["conclusion"] == "success"
    assert plugin["violations"] == []
    acknowledged = [
        s
        for s in plugin["suppressedViolations"]
        if "AmazonEC2ContainerServiceforEC2Role" in s["acknowledgedId"]
    ]
    assert acknowledged
    assert all(len(s["reason"]) > 40 for s in acknowledged)


def test_cfn_lint_passes(batch_synth: Synth) -> None:
    result = subprocess.run(
        [_cfn_lint(), "--format", "json", str(batch_synth.template_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode in (0, 4), result.stderr
    findings = json.loads(result.stdout or "[]")
    assert [f for f in findings if f["Rule"]["Id"] not in ALLOWED_CFN_LINT] == []


# --- the construct on its own (STYLE §8) ---------------------------------------------------------


def _bare() -> tuple[cdk.Stack, ec2.Vpc, ec2.SecurityGroup, iam.Role]:
    stack = cdk.Stack(cdk.App())
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2)
    group = ec2.SecurityGroup(stack, "Sg", vpc=vpc)
    role = iam.Role(stack, "JobRole", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
    return stack, vpc, group, role


def test_bare_stack_cpu_pool_without_spot_uses_the_standard_ami() -> None:
    stack, vpc, group, role = _bare()
    compute = BatchCompute(
        stack,
        "Batch",
        pools=[BatchPool("cpu", ("m6i", "r6i"))],
        shapes=[BatchShape("BatchJobDef_vcpu32_mem131072", 32, 131072)],
        vpc=vpc,
        security_group=group,
        image=ecs.ContainerImage.from_registry("me/img:1"),
        environment={"A": "1"},
        job_role=role,
        execution_role=role,
    )
    assert set(compute.substitutions()) == {"BatchQueue_cpu_ondemand", "BatchJobDef_vcpu32_mem131072"}
    template = cdk.assertions.Template.from_stack(stack)
    template.resource_count_is("AWS::Batch::ComputeEnvironment", 1)
    template.has_resource_properties(
        "AWS::Batch::ComputeEnvironment",
        {
            "ComputeResources": cdk.assertions.Match.object_like(
                {"InstanceTypes": ["m6i", "r6i"], "MinvCpus": 0}
            )
        },
    )


def test_bad_props_are_reported_together() -> None:
    stack, vpc, group, role = _bare()
    with pytest.raises(PropsError) as info:
        BatchCompute(
            stack,
            "Batch",
            pools=[BatchPool("GPU!", ("z9",)), BatchPool("cpu", ())],
            shapes=[BatchShape("TaskDef_x", 0, 0), BatchShape("BatchJobDef_big", 300, 1024)],
            vpc=vpc,
            security_group=group,
            image=ecs.ContainerImage.from_registry("me/img:1"),
            environment={},
            job_role=role,
            execution_role=role,
        )
    message = str(info.value)
    for fragment in (
        "pool name 'GPU!' must be lower-case",
        "pool 'GPU!': unknown or no instance families ['z9']",
        "pool 'cpu': unknown or no instance families []",
        "shape placeholder 'TaskDef_x' must start with 'BatchJobDef_'",
        "TaskDef_x: vcpus and memory_mib must be positive",
        "BatchJobDef_big: 300 vCPUs exceed max_vcpus=256",
    ):
        assert fragment in message
