"""Scenario files: defaults, the packaged examples, strict parsing, prices; the process runner."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest

from elksxl.errors import ConfigError
from elksxl.simulator import TEST_NUMBER, Scenario
from elksxl.simulator.testing import SimulatorHandle, running_simulator_process


def packaged(name: str) -> str:
    folder = resources.files("elksxl.simulator").joinpath("scenarios")
    return folder.joinpath(f"{name}.json").read_text(encoding="utf-8")


def test_default_scenario_has_one_sim_account_in_sek() -> None:
    scenario = Scenario.default()

    [account] = scenario.accounts
    assert (account.username, account.password, account.currency) == ("sim", "sim", "SEK")
    assert account.id.startswith("u")
    assert (scenario.rate_per_minute, scenario.over_rate) == (100, "queue")


def test_packaged_default_json_is_the_default_scenario() -> None:
    assert Scenario.from_json(packaged("default")) == Scenario.default()
    assert Scenario.load("default") == Scenario.default()


def test_packaged_faulty_json_has_seeded_faults() -> None:
    scenario = Scenario.load("faulty")

    assert scenario.faults.seed == 46
    assert scenario.faults.error_5xx > 0
    assert scenario.over_rate == "429"


def test_scenario_round_trips_through_its_dict(tmp_path: Path) -> None:
    scenario = Scenario.load("faulty")
    path = tmp_path / "copy.json"
    path.write_text(json.dumps(scenario.to_dict()), encoding="utf-8")

    assert Scenario.load(path) == scenario


@pytest.mark.parametrize(
    ("data", "complaint"),
    [
        ({"acounts": []}, "acounts"),
        ({"accounts": []}, "non-empty"),
        ({"accounts": [{"username": "a"}]}, "password"),
        ({"over_rate": "drop"}, "over_rate"),
        ({"faults": {"error_5xx": 1.5}}, "error_5xx"),
        ({"faults": {"error_5xx": 0.6, "drop_after": 0.6}}, "must not exceed 1"),
        ({"faults": {"latency": {"min_ms": 10, "max_ms": 5}}}, "max_ms"),
        ({"prices": {"SE": 3500}}, "SE"),
        ({"delivery": {"callback_max_tries": 0}}, "callback_max_tries"),
        ({"burst": 0}, "burst"),
    ],
)
def test_bad_scenarios_are_refused_with_a_reason(data: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint):
        Scenario.from_dict(data)


def test_load_names_the_packaged_scenarios_when_the_file_is_missing() -> None:
    with pytest.raises(ConfigError, match="default, faulty"):
        Scenario.load("no-such-file.json")


def test_price_is_found_by_the_longest_prefix() -> None:
    scenario = Scenario.from_dict({"prices": {"46": 3500, "+4670": 3000}, "default_price": 9000})

    assert scenario.price_per_part("+46701234567") == 3000
    assert scenario.price_per_part("+46812345678") == 3500
    assert scenario.price_per_part("+4791234567") == 9000
    assert scenario.price_per_part(TEST_NUMBER) == 0


def test_simulator_runs_as_its_own_process() -> None:
    with running_simulator_process({"accounts": [{"username": "p", "password": "q"}]}) as sim:
        assert sim.process is not None
        response = httpx.post(
            sim.base_url + "/sms",
            data={"from": "ElksXL", "to": "+46701234567", "message": "Hej"},
            auth=("p", "q"),
            trust_env=False,
        )
        assert response.status_code == 200
        assert [m["id"] for m in sim.messages()] == [response.json()["id"]]
        process = sim.process

    assert process.returncode is not None


def test_stop_makes_the_simulator_refuse_connections(simulator: SimulatorHandle) -> None:
    simulator.stop()

    with pytest.raises(httpx.ConnectError):
        httpx.get(simulator.base_url + "/me", auth=simulator.auth, trust_env=False)
