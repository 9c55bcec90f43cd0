"""The patches that make an emulated run start fast, and the deferred install behind them.

Canaries as in test_moto_canaries.py: each ``test_raw_*`` shows the cost in moto or botocore
as shipped (it fails when they change, and the patch may then go); the others show that the
patch keeps the result the same. The subprocess tests check what a fresh process imports.
"""

from __future__ import annotations

import collections
import gc
import importlib.util
import inspect
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import botocore.loaders
import botocore.session
import moto
import moto.backends
import pytest
from botocore.exceptions import ClientError

from stratoflow import cli
from stratoflow.testing import (
    EmulatedAws,
    Sandbox,
    _moto_imports,
    _patches_parse,
    _patches_requests,
    _patches_sfn,
    _patching,
)
from tests.emulated import sandbox_cli_flows as flows

pytestmark = pytest.mark.emulated

ROOT = Path(__file__).resolve().parents[2]
HEAVY_MODELS = ("moto.ec2.models", "moto.ecs.models", "moto.batch.models", "moto.cloudformation.models")
DEFERRED_RUN = ("cryptography.x509.base", "yaml.reader")
"""A submodule each of ``_moto_imports.LAZY_MODULES`` imports when it runs."""


def _fresh_python(code: str) -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "sdk"), str(ROOT)])}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


# --- install_patch(service=...): applied when moto first loads the service --------------------


@pytest.fixture
def fake_service() -> Iterator[str]:
    """A service name moto never loads, so its patches stay pending until get_backend is asked."""
    yield "stratoflowfake"
    _patching._PENDING.pop("stratoflowfake", None)


def _counting_patch(applied: list[str], label: str) -> Callable[[_patching.Patcher], None]:
    def apply(p: _patching.Patcher) -> None:
        applied.append(label)
        p.on_undo(lambda: applied.append(f"undo {label}"))

    return apply


def test_a_deferred_patch_counts_as_installed_and_applies_at_the_first_request(fake_service: str) -> None:
    applied: list[str] = []
    undo_a = _patching.install_patch("test_deferred_a", _counting_patch(applied, "a"), service=fake_service)
    undo_b = _patching.install_patch("test_deferred_b", _counting_patch(applied, "b"), service=fake_service)
    try:
        assert _patching.is_installed("test_deferred_a") and applied == []
        assert (
            _patching.install_patch("test_deferred_a", _counting_patch(applied, "x"), service=fake_service)
            is undo_a
        )
        with pytest.raises(Exception):  # noqa: B017 - moto has no such service: after the patches ran
            moto.backends.get_backend(fake_service)  # type: ignore[call-overload]
        assert applied == ["a", "b"]  # in install order, once
        with pytest.raises(Exception):  # noqa: B017
            moto.backends.get_backend(fake_service)  # type: ignore[call-overload]
        assert applied == ["a", "b"]
    finally:
        undo_b()
        undo_a()
    assert applied == ["a", "b", "undo b", "undo a"]


def test_a_deferred_patch_removed_before_use_is_never_applied(fake_service: str) -> None:
    applied: list[str] = []
    _patching.install_patch("test_deferred_c", _counting_patch(applied, "c"), service=fake_service)()
    assert not _patching.is_installed("test_deferred_c")
    with pytest.raises(Exception):  # noqa: B017
        moto.backends.get_backend(fake_service)  # type: ignore[call-overload]
    assert applied == []


def test_a_patch_of_a_loaded_service_applies_at_once() -> None:
    applied: list[str] = []
    undo = _patching.install_patch("test_deferred_d", _counting_patch(applied, "d"), service="s3")
    assert "moto.s3.models" in sys.modules and applied == ["d"]
    undo()


def test_a_lambda_sandbox_run_never_imports_ecs_batch_ec2_cloudformation_werkzeugs_server_or_the_deferred_modules() -> (
    None
):
    code = f"""
import io, sys
from stratoflow.lower import lower
from stratoflow.testing import Sandbox
from tests.emulated import sandbox_cli_flows as flows
with Sandbox(container_log=io.StringIO()) as sandbox:
    print(sandbox.run(lower(flows.doubled), {{"x": 2}}).outputs()["o0"])
print([m for m in {(*HEAVY_MODELS, *DEFERRED_RUN, "werkzeug.serving")!r} if m in sys.modules])
"""
    assert _fresh_python(code).split("\n")[:2] == ["4", "[]"]


def test_a_container_sandbox_run_loads_ecs_and_its_patches_apply() -> None:
    # The container's KeyError is the user's: the deferred in-process ECS patch ran the task.
    code = """
import io, sys
from stratoflow.lower import lower
from stratoflow.testing import Sandbox
from stratoflow.testing._patching import _PENDING
from tests.emulated import sandbox_cli_flows as flows
with Sandbox(container_log=io.StringIO()) as sandbox:
    try:
        sandbox.run(lower(flows.broken_container), {"x": 4})
    except Exception as exc:
        print("no column 4" in str(exc))
print("moto.ecs.models" in sys.modules, [name for name, _, _ in _PENDING.get("ecs", [])])
"""
    assert _fresh_python(code).split("\n")[:2] == ["True", "True []"]


# --- _moto_imports: moto.batch without its models ---------------------------------------------


def test_raw_moto_batch_init_is_the_one_line_the_lazy_package_stands_in_for() -> None:
    spec = moto.batch.__spec__
    assert spec is not None and spec.origin is not None
    lines = [line for line in Path(spec.origin).read_text().splitlines() if line.strip()]
    assert lines == ["from .models import batch_backends  # noqa: F401"]
    assert _moto_imports.LAZY_PACKAGES["moto.batch"] == {"batch_backends": "models"}


def test_raw_werkzeug_init_is_the_four_names_the_lazy_package_stands_in_for() -> None:
    spec = importlib.util.find_spec("werkzeug")
    assert spec is not None and spec.origin is not None
    lines = [line for line in Path(spec.origin).read_text().splitlines() if line.strip()]
    assert lines == [
        "from .serving import run_simple as run_simple",
        "from .test import Client as Client",
        "from .wrappers import Request as Request",
        "from .wrappers import Response as Response",
    ]
    assert _moto_imports.LAZY_PACKAGES["werkzeug"] == {
        "run_simple": "serving",
        "Client": "test",
        "Request": "wrappers",
        "Response": "wrappers",
    }


def test_werkzeug_loads_without_its_dev_server_whose_names_load_on_first_read() -> None:
    code = """
import sys
import stratoflow.testing
import werkzeug
print("werkzeug.serving" in sys.modules, "http.server" in sys.modules, "werkzeug.exceptions" in sys.modules)
from werkzeug.serving import run_simple
from werkzeug.wrappers import Request
from werkzeug.test import Client
print(werkzeug.run_simple is run_simple, werkzeug.Request is Request, werkzeug.Client is Client)
"""
    assert _fresh_python(code).split("\n")[:2] == ["False False True", "True True True"]


def test_the_interpreter_loads_without_batch_models_which_load_on_first_read() -> None:
    code = """
import sys
import stratoflow.testing
import moto.stepfunctions.parser.backend.execution_worker
print("moto.batch.utils" in sys.modules, "moto.batch.models" in sys.modules, "moto.ec2.models" in sys.modules)
from moto.batch import batch_backends
from moto.batch.models import batch_backends as real
print(batch_backends is real)
"""
    assert _fresh_python(code).split("\n")[:2] == ["True False False", "True"]


# --- _moto_imports: modules imported at the top, run when first used -------------------------


def test_raw_moto_iam_and_responses_run_x509_and_yaml_when_imported() -> None:
    code = f"""
import sys
import moto.iam.models, responses
print([m for m in {DEFERRED_RUN!r} if m in sys.modules])
"""
    assert _fresh_python(code).split("\n")[0] == str(list(DEFERRED_RUN))
    assert _moto_imports.LAZY_MODULES == ("cryptography.x509", "yaml")


def test_deferred_modules_run_at_their_first_use_as_if_imported() -> None:
    code = f"""
import sys, types
import stratoflow.testing
import moto.iam.models, responses
import yaml
from cryptography import x509
print([m for m in {DEFERRED_RUN!r} if m in sys.modules])
print(yaml.safe_load("a: [1, 2]"), type(yaml) is types.ModuleType)
from cryptography.x509.name import Name
print(x509.Name is Name, moto.iam.models.x509 is sys.modules["cryptography.x509"], type(x509) is types.ModuleType)
"""
    assert _fresh_python(code).split("\n")[:3] == ["[]", "{'a': [1, 2]} True", "True True True"]


# --- install_shared_botocore_loader ------------------------------------------------------------


def test_raw_botocore_sessions_each_parse_their_own_models(raw_aws: EmulatedAws) -> None:
    first, second = botocore.session.Session(), botocore.session.Session()
    assert first.get_component("data_loader") is not second.get_component("data_loader")


def test_sessions_share_one_loader_and_list_what_botocore_lists(aws: EmulatedAws) -> None:
    _patches_requests.install_shared_botocore_loader()()  # just this patch out: botocore's own listing
    unpatched = botocore.loaders.Loader()
    reference = {t: unpatched.list_available_services(t) for t in _TYPES}
    _patches_requests.install_shared_botocore_loader()
    first, second = botocore.session.Session(), botocore.session.Session()
    assert first.get_component("data_loader") is second.get_component("data_loader")
    shared = first.get_component("data_loader")
    assert {t: shared.list_available_services(t) for t in _TYPES} == reference
    assert shared.list_available_services(type_name="service-2") == reference["service-2"]
    assert "s3" in reference["service-2"] and "s3" in reference["paginators-1"]


_TYPES = ("service-2", "paginators-1", "endpoint-rule-set-1", "waiters-2")


def test_raw_moto_ships_no_whole_model_files_only_extras() -> None:
    # The shared listing walks moto's folders like botocore's; it lists nothing from them today.
    root = Path(moto.__file__).parent
    assert not [p for t in _TYPES for p in root.glob(f"*/*/{t}.json*")]


# --- install_moto_models_from_botocore ---------------------------------------------------------

_MODEL_SERVICES = ("dynamodb", "lambda", "stepfunctions", "s3")


def _loaded(loader: Any) -> dict[str, Any]:
    return {service: loader.load_service_model(service, "service-2") for service in _MODEL_SERVICES}


def test_raw_moto_parses_its_models_with_a_loader_apart_from_the_clients(raw_aws: EmulatedAws) -> None:
    from moto.core import loaders, utils

    clients = botocore.session.get_session().get_component("data_loader")
    assert type(utils.create_loader()) is loaders.Loader
    assert utils.create_loader().search_paths[1:] == botocore.loaders.Loader().search_paths
    assert _loaded(utils.create_loader())["dynamodb"] is not _loaded(clients)["dynamodb"]


def test_moto_takes_the_clients_model_files_it_would_read_alike(aws: EmulatedAws) -> None:
    from moto.core import loaders, utils

    _patches_requests.install_moto_models_from_botocore()()  # just this patch out: moto's own reading
    moto_root = str(Path(moto.__file__).parent)
    reference = _loaded(loaders.Loader(extra_search_paths=[moto_root]))
    clients_reference = _loaded(botocore.loaders.Loader())
    _patches_requests.install_moto_models_from_botocore()
    for service in _MODEL_SERVICES:
        aws.client(service)
    clients = _loaded(botocore.session.create_loader(None))
    shared = _loaded(utils.create_loader())
    assert shared == reference and clients == clients_reference
    assert [s for s in _MODEL_SERVICES if shared[s] is clients[s]] == ["dynamodb", "lambda", "stepfunctions"]
    assert reference["s3"] != clients_reference["s3"]  # extras of both kinds: each reads its own


# --- install_model_lookups_by_name -------------------------------------------------------------

_PACKAGES = ("s3", "ssoadmin", "cognitoidp", "awslambda", "resourcegroupstaggingapi", "stratoflowfake")


class _CountingLoader(botocore.loaders.Loader):  # type: ignore[misc]
    listings = 0

    def list_available_services(self, type_name: str) -> Any:
        type(self).listings += 1
        return super().list_available_services(type_name)


def test_raw_loading_one_model_lists_every_service_and_moto_names_list_them_all(raw_aws: EmulatedAws) -> None:
    from moto.core import utils

    _CountingLoader.listings = 0
    _CountingLoader().load_service_model("s3", "service-2")
    assert _CountingLoader.listings == 1
    assert "get_available_services()" in inspect.getsource(utils.service_name_from_moto_package_name)


def _lookups() -> tuple[dict[tuple[str, str], Any], dict[str, str]]:
    from moto.core import utils

    loader = botocore.loaders.Loader()
    models: dict[tuple[str, str], Any] = {}
    for service in ("s3", "dynamodb", "sso-admin", "stratoflowfake", "s3/../s3", ""):
        for type_name in ("service-2", "paginators-1", "waiters-2"):
            try:
                models[service, type_name] = loader.load_service_model(service, type_name)
            except Exception as exc:  # noqa: BLE001 - the error is part of what must match
                models[service, type_name] = (type(exc), str(exc))
    return models, {package: utils.service_name_from_moto_package_name(package) for package in _PACKAGES}


def test_models_and_service_names_are_found_as_the_listing_finds_them(aws: EmulatedAws) -> None:
    from moto.core import utils

    _patches_requests.install_model_lookups_by_name()()  # just this patch out: the listings
    utils.service_name_from_moto_package_name.cache_clear()
    reference = _lookups()
    _patches_requests.install_model_lookups_by_name()
    assert _lookups() == reference
    assert reference[1]["ssoadmin"] == "sso-admin" and reference[1]["awslambda"] == "awslambda"
    assert isinstance(reference[0]["stratoflowfake", "service-2"], tuple)


def test_a_known_service_is_loaded_without_listing_them_all(aws: EmulatedAws) -> None:
    _CountingLoader.listings = 0
    loader = _CountingLoader()
    loader.load_service_model("dynamodb", "paginators-1")
    assert _CountingLoader.listings == 1  # asked, and answered without the walk
    assert loader._cache.get(("list_available_services", "paginators-1")) is None


# --- install_plain_json_models -----------------------------------------------------------------

_MODEL_FILES = ("endpoints", "s3/2006-03-01/service-2", "lambda/2015-03-31/endpoint-rule-set-1")


def _model_files() -> list[Any]:
    loader = botocore.loaders.JSONFileLoader()
    root = Path(botocore.loaders.Loader.BUILTIN_DATA_PATH)
    return [loader.load_file(str(root / name)) for name in _MODEL_FILES]


def test_raw_botocore_parses_model_files_into_ordered_dicts(raw_aws: EmulatedAws) -> None:
    assert all(type(data) is collections.OrderedDict for data in _model_files())
    assert "object_pairs_hook=OrderedDict" in inspect.getsource(botocore.loaders.JSONFileLoader._load_file)


def test_model_files_parse_into_dicts_with_the_same_data_in_the_same_order(aws: EmulatedAws) -> None:
    _patches_requests.install_plain_json_models()()  # just this patch out: botocore's own parse
    reference = _model_files()
    _patches_requests.install_plain_json_models()
    plain = _model_files()
    assert all(type(data) is dict for data in plain)
    assert [json.dumps(data) for data in plain] == [json.dumps(data) for data in reference]  # order too
    missing = botocore.loaders.JSONFileLoader().load_file(
        str(Path(botocore.loaders.Loader.BUILTIN_DATA_PATH, "nope"))
    )
    assert missing is None


# --- install_shared_event_aliases --------------------------------------------------------------


def test_raw_each_session_aliases_event_names_again(raw_aws: EmulatedAws) -> None:
    first, second = botocore.session.Session(), botocore.session.Session()
    assert first._events._alias_name_cache is not second._events._alias_name_cache


def test_sessions_and_clients_share_the_aliases_and_alias_alike(aws: EmulatedAws) -> None:
    first, second = botocore.session.Session(), botocore.session.Session()
    assert first._events._alias_name_cache is second._events._alias_name_cache
    client = aws.client("s3")
    assert client.meta.events._alias_name_cache is first._events._alias_name_cache
    own = botocore.hooks.EventAliaser(botocore.hooks.HierarchicalEmitter(), {"old": "new"})
    assert own._alias_name_cache is not first._events._alias_name_cache  # another table: its own cache
    assert first._events._alias_event_name("before-call.autoscaling.X") == "before-call.auto-scaling.X"


# --- install_s3_url_cache ----------------------------------------------------------------------


def _s3_backend() -> object:
    from moto.s3.models import s3_backends

    return s3_backends["123456789012"]["global"]


def test_raw_s3_reloads_its_url_module_at_every_read(raw_aws: EmulatedAws) -> None:
    backend = _s3_backend()
    assert backend._url_module.url_paths is not backend._url_module.url_paths  # type: ignore[attr-defined]


def test_s3_url_module_reloads_only_when_its_setting_changes(
    aws: EmulatedAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = _s3_backend()
    assert backend._url_module.url_paths is backend._url_module.url_paths  # type: ignore[attr-defined]
    monkeypatch.setenv("MOTO_S3_CUSTOM_ENDPOINTS", "https://s3.example.test")
    assert "https://s3.example.test" in backend._url_module.url_bases  # type: ignore[attr-defined]
    monkeypatch.delenv("MOTO_S3_CUSTOM_ENDPOINTS")
    assert "https://s3.example.test" not in backend._url_module.url_bases  # type: ignore[attr-defined]
    assert _patching.is_installed(_patches_requests.install_s3_url_cache.__name__)


# --- install_parse_once -----------------------------------------------------------------------

_BATCHED_MAP = {
    "StartAt": "M",
    "States": {
        "M": {
            "Type": "Map",
            "ItemsPath": "$.items",
            # Rewritten in place when the map runs: a parse cannot serve two executions.
            "ItemBatcher": {"MaxItemsPerBatchPath": "$.size"},
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "Count",
                "States": {
                    "Count": {
                        "Type": "Pass",
                        "Parameters": {"n.$": "States.ArrayLength($.Items)"},
                        "End": True,
                    }
                },
            },
            "End": True,
        }
    },
}
_PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


def _count_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    parsed: list[str] = []
    inner = AmazonStateLanguageParser.parse

    def parse(definition: str) -> Any:
        parsed.append(definition)
        return inner(definition)

    monkeypatch.setattr(AmazonStateLanguageParser, "parse", staticmethod(parse))
    return parsed


def test_raw_moto_parses_a_definition_at_creation_and_again_at_every_start(
    raw_aws: EmulatedAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed = _count_parses(monkeypatch)
    arn = raw_aws.create_state_machine("m", _PASS)
    assert raw_aws.start_and_wait(arn, {"a": 1}, name="one").output == {"a": 1}
    assert raw_aws.start_and_wait(arn, {"a": 2}, name="two").output == {"a": 2}
    assert len(parsed) == 3


def test_the_first_execution_takes_the_parse_of_creation_and_the_next_parse_their_own(
    aws: EmulatedAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed = _count_parses(monkeypatch)
    arn = aws.create_state_machine("m", _BATCHED_MAP)
    assert len(parsed) == 1
    first = aws.start_and_wait(arn, {"items": list(range(5)), "size": 2})
    assert len(parsed) == 1  # the map's own children are parsed as before: none here
    second = aws.start_and_wait(arn, {"items": list(range(5)), "size": 4})
    assert (first.status, second.status) == ("SUCCEEDED", "SUCCEEDED"), (first.cause, second.cause)
    assert first.output == [{"n": 2}, {"n": 2}, {"n": 1}] and second.output == [{"n": 4}, {"n": 1}]
    assert len(parsed) == 2


def test_an_invalid_definition_is_rejected_as_moto_rejects_it(aws: EmulatedAws) -> None:
    def rejection() -> str:
        with pytest.raises(ClientError) as caught:
            aws.create_state_machine("bad", {"StartAt": "P", "States": {"P": {"Type": "Nope"}}})
        return str(caught.value)

    patched = rejection()
    _patches_parse.install_parse_once()()  # just this patch out: moto's own validation
    try:
        assert rejection() == patched and "ASLParserException" in patched
    finally:
        _patches_parse.install_parse_once()


# --- install_execution_end_events ---------------------------------------------------------------

_BLOCKED = {
    "StartAt": "T",
    "States": {
        "T": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "${Fn}", "Payload.$": "$"},
            "OutputPath": "$.Payload",
            "End": True,
        }
    },
}


def _blocked_machine(
    aws: EmulatedAws, release: threading.Event, entered: threading.Event | None = None
) -> str:
    def handler(event: Any, context: Any) -> Any:
        if entered is not None:
            entered.set()
        release.wait(10)
        return event

    return aws.create_state_machine("blocked", _BLOCKED, {"Fn": aws.register_lambda("blocked", handler)})


def test_raw_moto_execution_workers_offer_nothing_to_wait_on(raw_aws: EmulatedAws) -> None:
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    release = threading.Event()
    release.set()
    arn = raw_aws.start_execution(_blocked_machine(raw_aws, release), {"a": 1}, name="e1")
    assert raw_aws.wait(arn).status == "SUCCEEDED"
    assert not [
        n for n in dir(ExecutionWorker) if any(w in n.lower() for w in ("wait", "event", "done", "end"))
    ]
    assert _patches_sfn.execution_ended(arn) is None


def test_an_executions_end_event_is_set_once_its_status_is_final(aws: EmulatedAws) -> None:
    release = threading.Event()
    arn = aws.start_execution(_blocked_machine(aws, release), {"a": 1})
    ended = _patches_sfn.execution_ended(arn)
    assert ended is not None and not ended.wait(0.2)
    release.set()
    assert ended.wait(10)
    assert aws.client("stepfunctions").describe_execution(executionArn=arn)["status"] == "SUCCEEDED"
    assert _patches_sfn.execution_ended("arn:aws:states:us-east-1:123456789012:execution:x:y") is None


def test_the_sandbox_wait_returns_once_a_stopped_execution_is_final(aws: EmulatedAws) -> None:
    release, entered = threading.Event(), threading.Event()
    sfn = aws.client("stepfunctions")
    arn = aws.start_execution(_blocked_machine(aws, release, entered), {"a": 1})
    # Stopped once its task is in the Lambda: a stop while moto's Task state is still starting
    # can fail the execution inside moto (States.Runtime) instead of aborting it.
    assert entered.wait(10)

    class Started:  # what Sandbox.wait_ended reads of a client Execution
        def __init__(self) -> None:
            self.arn = arn

        def status(self) -> str:
            return str(sfn.describe_execution(executionArn=arn)["status"])

    sfn.stop_execution(executionArn=arn)
    try:
        Sandbox.wait_ended(Sandbox(aws), Started())  # type: ignore[arg-type]
        assert Started().status() == "ABORTED"
    finally:
        release.set()


# --- the CLI's collector settings --------------------------------------------------------------


def test_a_sandbox_run_leaves_the_collector_as_it_found_it(capsys: pytest.CaptureFixture[str]) -> None:
    # What imports froze (stratoflow._frozen_heap) may be frozen already; the emulator's heap,
    # far larger, must not stay frozen after the run (a test session goes on).
    before = gc.get_freeze_count()
    assert gc.isenabled()
    assert cli.main(["run", "--sandbox", "--json", flows.__name__, "doubled", "--x", "3"]) == 0
    assert json.loads(capsys.readouterr().out) == {"o0": 6}
    assert gc.isenabled() and gc.get_freeze_count() <= before


# --- install_lazy_route_builders ---------------------------------------------------------------


def _lambda_routes() -> list[object]:
    from moto.core import routing
    from moto.core.utils import get_service_model

    return list(routing.RestRouter(get_service_model("lambda"))._map.iter_rules())


def _built(rules: list[object]) -> list[object]:
    return [rule.build(dict.fromkeys(rule.arguments, "x1"))[1] for rule in rules]  # type: ignore[attr-defined]


def test_raw_moto_routes_compile_url_builders_when_bound(raw_aws: EmulatedAws) -> None:
    rule = _lambda_routes()[0]
    assert rule._build.__code__.co_filename == "<werkzeug routing>"  # type: ignore[attr-defined]


def test_lazy_route_builders_build_the_same_urls(aws: EmulatedAws) -> None:
    _patches_requests.install_lazy_route_builders()()  # just this patch out: Werkzeug's own builders
    eager = _built(_lambda_routes())
    _patches_requests.install_lazy_route_builders()
    lazy_rules = _lambda_routes()
    assert lazy_rules[0]._build.__code__.co_filename != "<werkzeug routing>"  # type: ignore[attr-defined]
    assert len(eager) == 89 and _built(lazy_rules) == eager == _built(lazy_rules)


def test_service_names_are_read_with_the_clients_session_loader(
    aws: EmulatedAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.core import utils

    made: list[object] = []
    original = botocore.session.Session.__init__

    def counting_init(self: Any, *args: Any, **kwargs: Any) -> None:
        made.append(self)
        original(self, *args, **kwargs)

    utils.service_name_from_moto_package_name.cache_clear()
    monkeypatch.setattr(botocore.session.Session, "__init__", counting_init)
    assert utils.service_name_from_moto_package_name("ssoadmin") == "sso-admin"
    assert made == []  # the emulator's default session's loader, not a new session's
