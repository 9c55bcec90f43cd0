"""The patches of _patches_lookups: moto reads one thing from a service model without the rest.

Canaries as in test_speed_patches.py: each ``test_raw_*`` shows the cost in moto or botocore as
shipped (it fails when they change, and the patch may then go); the others show that the patch
gives the same result.
"""

from __future__ import annotations

from pathlib import Path

import botocore.loaders
import botocore.model
import botocore.session
import moto.backends
import pytest
from botocore.exceptions import ClientError
from moto.core.base_backend import AccountSpecificBackend

from stratoflow.testing import EmulatedAws, _patches_lookups, _patching

pytestmark = pytest.mark.emulated

# --- install_error_shapes_by_flag --------------------------------------------------------------


def _record_resolved(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the shapes resolved from now on (until ``monkeypatch.undo``)."""
    resolved: list[str] = []
    inner = botocore.model.ShapeResolver.get_shape_by_name
    monkeypatch.setattr(
        botocore.model.ShapeResolver,
        "get_shape_by_name",
        lambda self, name, traits=None: resolved.append(name) or inner(self, name, traits),
    )
    return resolved


def test_raw_botocore_resolves_every_shape_to_find_the_error_shapes(
    raw_aws: EmulatedAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = botocore.session.Session().get_service_model("s3")
    resolved = _record_resolved(monkeypatch)
    assert model.error_shapes
    assert resolved == model.shape_names  # every shape, to read a flag of 20


@pytest.mark.parametrize("service", ["s3", "lambda", "dynamodb", "stepfunctions", "logs", "sts"])
def test_error_shapes_are_the_flagged_ones_in_order_and_resolved_alone(
    aws: EmulatedAws, monkeypatch: pytest.MonkeyPatch, service: str
) -> None:
    assert _patching.is_installed(_patches_lookups.install_error_shapes_by_flag.__name__)
    patched = botocore.session.Session().get_service_model(service)
    resolved = _record_resolved(monkeypatch)
    shapes = patched.error_shapes
    monkeypatch.undo()
    # botocore's definition: every shape resolved, those whose metadata says exception.
    model = botocore.session.Session().get_service_model(service)
    expected = [
        shape for shape in map(model.shape_for, model.shape_names) if shape.metadata.get("exception", False)
    ]
    assert [(type(s), s.name, s.error_code, s.metadata) for s in shapes] == [
        (type(s), s.name, s.error_code, s.metadata) for s in expected
    ]
    assert expected and resolved == [s.name for s in expected]
    assert patched.error_shapes is shapes  # still cached on the model


def test_a_model_with_an_untyped_shape_is_rejected_as_botocore_rejects_it(aws: EmulatedAws) -> None:
    description = {"metadata": {}, "shapes": {"Err": {"type": "structure", "exception": True}, "Bad": {}}}
    with pytest.raises(botocore.model.InvalidShapeError):
        _ = botocore.model.ServiceModel(description).error_shapes


def test_a_missing_key_still_answers_moto_s3s_error(aws: EmulatedAws) -> None:
    s3 = aws.session.client("s3")
    s3.create_bucket(Bucket="lookups-bucket")
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket="lookups-bucket", Key="absent")
    assert raised.value.response["Error"]["Code"] == "NoSuchKey"


# --- install_region_lists_from_metadata --------------------------------------------------------


def test_raw_listing_a_services_regions_loads_its_whole_model(raw_aws: EmulatedAws) -> None:
    session = AccountSpecificBackend.get_session()
    loader = session._session.get_component("data_loader")
    loaded: list[tuple[str, str]] = []
    inner = loader.load_service_model
    loader.load_service_model = lambda name, type_name, api_version=None: (
        loaded.append((name, type_name)) or inner(name, type_name, api_version)
    )
    try:
        session.get_available_regions("logs")
    finally:
        del loader.load_service_model
    assert loaded == [("logs", "service-2")]


def _expected_regions(service: str) -> list[str]:
    session = AccountSpecificBackend.get_session()
    return [
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions(service, partition_name=partition)
    ]


@pytest.mark.parametrize(
    "service", sorted({*moto.backends.list_of_moto_modules(), "not-a-service", "s3control"})
)
def test_every_services_regions_are_those_botocore_lists(aws: EmulatedAws, service: str) -> None:
    assert _patching.is_installed(_patches_lookups.install_region_lists_from_metadata.__name__)
    backend = AccountSpecificBackend(
        service, "123456789012", dict, use_boto3_regions=True, additional_regions=None
    )
    assert backend.regions == _expected_regions(service)


def test_the_endpoint_prefix_is_read_from_the_models_head_alone(aws: EmulatedAws) -> None:
    assert _patching.is_installed(_patches_lookups.install_region_lists_from_metadata.__name__)
    loader = botocore.session.Session().get_component("data_loader")
    assert _patches_lookups._endpoint_prefix(loader, "stepfunctions") == "states"
    assert _patches_lookups._endpoint_prefix(loader, "logs") == "logs"
    assert _patches_lookups._endpoint_prefix(loader, "no-such-service") is None
    assert _patches_lookups._endpoint_prefix(loader, "eks") is None  # has sdk extras: loaded whole


def test_a_model_whose_metadata_is_past_the_head_is_not_guessed(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text('{"documentation": "' + "x" * _patches_lookups.METADATA_HEAD_BYTES + '", "metadata": {}}')
    assert _patches_lookups._head_metadata(path, open) is None
    path.write_text('{ "version" : "2.0" ,\n "metadata": {"endpointPrefix": "e"}, "shapes": {')
    assert _patches_lookups._head_metadata(path, open) == {"endpointPrefix": "e"}
    assert botocore.loaders.JSONFileLoader  # the loader whose files it reads
