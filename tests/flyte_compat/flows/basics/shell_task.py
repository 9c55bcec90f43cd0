# flytesnacks' examples/basics/basics/shell_task.py, its imports changed (flytekit -> stratoflow).
import os
from typing import Tuple

import stratoflow as flytekit
from stratoflow import kwtypes, task, workflow
from stratoflow.extras.tasks.shell import OutputLocation, ShellTask
from stratoflow.types.directory import FlyteDirectory
from stratoflow.types.file import FlyteFile

t1 = ShellTask(
    name="task_1",
    debug=True,
    script="""
    set -ex
    echo "Hey there! Let's run some bash scripts using Flyte's ShellTask."
    echo "Showcasing Flyte's Shell Task." >> {inputs.x}
    if grep "Flyte" {inputs.x}
    then
        echo "Found it!" >> {inputs.x}
    else
        echo "Not found!"
    fi
    """,
    inputs=kwtypes(x=FlyteFile),
    output_locs=[OutputLocation(var="i", var_type=FlyteFile, location="{inputs.x}")],
)


t2 = ShellTask(
    name="task_2",
    debug=True,
    script="""
    set -ex
    cp {inputs.x} {inputs.y}
    tar -zcvf {outputs.j} {inputs.y}
    """,
    inputs=kwtypes(x=FlyteFile, y=FlyteDirectory),
    output_locs=[OutputLocation(var="j", var_type=FlyteFile, location="{inputs.y}.tar.gz")],
)


t3 = ShellTask(
    name="task_3",
    debug=True,
    script="""
    set -ex
    tar -zxvf {inputs.z}
    cat {inputs.y}/$(basename {inputs.x}) | wc -m > {outputs.k}
    """,
    inputs=kwtypes(x=FlyteFile, y=FlyteDirectory, z=FlyteFile),
    output_locs=[OutputLocation(var="k", var_type=FlyteFile, location="output.txt")],
)


@task
def create_entities() -> Tuple[FlyteFile, FlyteDirectory]:
    working_dir = flytekit.current_context().working_directory
    flytefile = os.path.join(working_dir, "test.txt")
    os.open(flytefile, os.O_CREAT)
    flytedir = os.path.join(working_dir, "testdata")
    os.makedirs(flytedir, exist_ok=True)
    flytedir_file = os.path.join(flytedir, ".gitkeep")
    os.open(flytedir_file, os.O_CREAT)
    return flytefile, flytedir


@workflow
def wf() -> FlyteFile:
    x, y = create_entities()
    t1_out = t1(x=x)
    t2_out = t2(x=t1_out, y=y)
    t3_out = t3(x=x, y=y, z=t2_out)
    return t3_out


# Not flytesnacks': what each step wrote, so a test sees t1's edit and t2's archive.
@task
def read_back(i: FlyteFile, j: FlyteFile) -> Tuple[str, int]:
    import tarfile

    with tarfile.open(j.download()) as archive:
        names = [m.name for m in archive.getmembers() if m.isfile()]
    return open(i).read(), len(names)


@workflow
def steps_wf() -> Tuple[str, int]:
    x, y = create_entities()
    t1_out = t1(x=x)
    return read_back(i=t1_out, j=t2(x=t1_out, y=y))


failing = ShellTask(
    name="failing",
    script="""
    echo "starting" >&2
    ls {inputs.missing_dir} >&2
    exit 3
    """,
    inputs=kwtypes(missing_dir=str),
)


@workflow
def failing_wf(d: str = "/nonexistent-folder") -> None:
    failing(missing_dir=d)


# Not flytesnacks': the same script on a container (8 vCPU routes it to Fargate).
t1_on_a_container = ShellTask(
    name="t1_on_a_container",
    script=t1.script,
    inputs=kwtypes(x=FlyteFile),
    output_locs=[OutputLocation(var="i", var_type=FlyteFile, location="{inputs.x}")],
    requests=flytekit.Resources(cpu=8, mem="32Gi"),
)


@workflow
def container_wf() -> str:
    x, _ = create_entities()
    return read_back(i=t1_on_a_container(x=x), j=t2(x=x, y=create_entities()[1]))[0]
