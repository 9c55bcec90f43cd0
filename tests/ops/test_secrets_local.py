"""Secrets in a local run: requested on the task, in the IR by name only, read from the environment or
the home's secrets folder, and absent from every log line, output, cache entry, history row and error."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from stratoflow import Secret, task
from stratoflow.backends.local import LocalRun, RunOptions, run_local
from stratoflow.errors import ConfigError, DefinitionError, TaskFailedError
from stratoflow.lower import lower
from tests.ops import secret_flows

VALUE = "tok-7f3a-SECRET-VALUE"


def _local(wf: object, home: Path, run_id: str) -> LocalRun:
    options = RunOptions(home=home, progress=False, retry_base_seconds=0.01)
    return run_local(lower(wf), {}, options, run_id=run_id)  # type: ignore[arg-type]


def _run(wf: object, home: Path, run_id: str) -> dict[str, object]:
    return _local(wf, home, run_id).outputs


def _stored_bytes(home: Path) -> bytes:
    """Everything the run left under the home: outputs, blobs, cache and history databases."""
    return b"".join(
        p.read_bytes() for p in sorted(home.rglob("*")) if p.is_file() and "secrets" not in p.parts
    )


def test_the_ir_names_requested_secrets_and_never_holds_a_value() -> None:
    spec = lower(secret_flows.signed_on_fargate)
    assert [s.name for s in spec.tasks["sign"].secrets] == ["stratoflow/api/token"]
    assert [(s.env_var, s.mount) for s in spec.tasks["db_length"].secrets] == [
        ("STRATOFLOW_SECRET_DB_PASSWORD", "file")
    ]
    # A task without secrets keeps its JSON (and its spec key) as before.
    assert '"secrets"' not in lower(secret_flows.not_requested).model_dump_json()


def test_secret_requests_must_be_secrets() -> None:
    with pytest.raises(
        DefinitionError, match=r"secret_requests must be a list of Secret\(group=\.\.\., key=\.\.\.\)"
    ):

        @task(secret_requests=["api/token"])  # type: ignore[list-item]
        def bad() -> int:
            return 1


def test_a_secret_name_part_that_cannot_name_a_variable_is_refused() -> None:
    with pytest.raises(ValueError, match=r"secret key 'a b' must be letters, digits"):
        Secret(group="api", key="a b")


def test_a_secret_from_the_environment_reaches_the_task_and_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STRATOFLOW_SECRET_API_TOKEN", VALUE)
    home = tmp_path / "home"
    out = _run(secret_flows.signed, home, "secret-env")
    assert out == {"o0": hashlib.sha256(f"{VALUE}:hello".encode()).hexdigest()}
    # The second run is a cache hit: the cache key is the inputs' hashes, never the secret.
    again = _local(secret_flows.signed, home, "secret-env-2")
    assert (again.outputs, again.cache_hits) == (out, {"sign"})
    logs = capfd.readouterr()
    assert "signing with token ****" in logs.err  # the user logger masks what the task read
    assert VALUE not in logs.err
    stored = _stored_bytes(home)
    assert out["o0"].encode() in stored  # the output and the cache entry are in what was searched
    assert VALUE.encode() not in stored


def test_a_print_of_the_secret_is_the_users_own_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    # stratoflow masks its own logger, errors and stores; a bare print() goes to stdout as the user wrote it.
    monkeypatch.setenv("STRATOFLOW_SECRET_API_TOKEN", VALUE)
    _run(secret_flows.signed, tmp_path, "secret-print")
    assert f"token={VALUE}" in capfd.readouterr().out


def test_a_secret_file_under_the_home_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRATOFLOW_HOME", str(tmp_path))
    monkeypatch.delenv("STRATOFLOW_SECRET_API_TOKEN", raising=False)
    (tmp_path / "secrets" / "api").mkdir(parents=True)
    (tmp_path / "secrets" / "api" / "token").write_text(VALUE + "\n")
    out = _run(secret_flows.signed, tmp_path / "run-home", "secret-file")
    assert out == {"o0": hashlib.sha256(f"{VALUE}:hello".encode()).hexdigest()}


def test_an_error_quoting_the_secret_is_masked_in_the_error_and_the_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STRATOFLOW_SECRET_API_TOKEN", VALUE)
    with pytest.raises(TaskFailedError) as failed:
        _run(secret_flows.leaky, tmp_path, "secret-leak")
    assert "refusing hello with token ****" in str(failed.value)
    assert VALUE not in str(failed.value)
    assert VALUE not in (failed.value.traceback_text or "")
    assert VALUE not in str(failed.value.__cause__)
    assert VALUE.encode() not in _stored_bytes(tmp_path)
    assert VALUE not in capfd.readouterr().err


def test_a_missing_secret_is_one_line_naming_group_and_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRATOFLOW_HOME", str(tmp_path))
    monkeypatch.delenv("STRATOFLOW_SECRET_API_TOKEN", raising=False)
    with pytest.raises(ConfigError) as missing:
        _run(secret_flows.signed, tmp_path, "secret-missing")
    message = str(missing.value)
    assert message == (
        "secret group 'api' key 'token' is not set: the task's environment has no _FSEC_API_TOKEN or "
        "STRATOFLOW_SECRET_API_TOKEN, there is no file secrets/api/token under $STRATOFLOW_HOME, "
        "and on AWS no secret 'stratoflow/api/token' in Secrets Manager"
    )
    with pytest.raises(ConfigError, match=r"the task does not request it \(@task\(secret_requests="):
        _run(secret_flows.not_requested, tmp_path, "secret-unrequested")


class _FakeSecrets:
    def __init__(self, answer: dict[str, object] | Exception) -> None:
        self.answer = answer
        self.calls: list[str] = []

    def get_secret_value(self, *, SecretId: str) -> object:
        self.calls.append(SecretId)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_the_secrets_manager_store_caches_per_container_for_its_ttl() -> None:
    from stratoflow.aws import SecretsManagerStore

    now = [0.0]
    client = _FakeSecrets({"SecretString": VALUE})
    store = SecretsManagerStore(lambda: client, ttl_seconds=300, clock=lambda: now[0])
    assert store.fetch("api", "token", None) == VALUE
    now[0] = 299
    assert store.fetch("api", "token", None) == VALUE
    assert client.calls == ["stratoflow/api/token"]
    now[0] = 301  # a rotated secret is seen after the TTL
    store.fetch("api", "token", None)
    assert client.calls == ["stratoflow/api/token"] * 2


def test_a_secret_not_granted_is_one_line_without_the_response() -> None:
    from botocore.exceptions import ClientError

    from stratoflow.aws import SecretsManagerStore

    denied = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not you"}}, "GetSecretValue")
    store = SecretsManagerStore(lambda: _FakeSecrets(denied))
    with pytest.raises(ConfigError) as failed:
        store.fetch("db", "password", None)
    assert str(failed.value) == (
        "secret 'stratoflow/db/password' could not be read from Secrets Manager: AccessDeniedException "
        "(is it granted to this task? see README, Secrets)"
    )
    missing = ClientError({"Error": {"Code": "ResourceNotFoundException"}}, "GetSecretValue")
    assert SecretsManagerStore(lambda: _FakeSecrets(missing)).fetch("db", "password", None) is None
