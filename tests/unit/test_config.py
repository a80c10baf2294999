"""The daemon's configuration: flags over environment variables over the config file over defaults."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.daemon import DEFAULTS, Config, ConfigError, load_config

NO_FLAGS: dict[str, str | None] = {}


def config_file(folder: Path, text: str, name: str = "calmly.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_nothing_given_is_the_defaults_each_recorded_as_default() -> None:
    config = load_config(None, {}, NO_FLAGS)

    assert config == DEFAULTS
    assert config == Config()
    assert (config.host, config.port) == ("127.0.0.1", 8642)
    assert set(config.origins.values()) == {"default"}
    assert set(config.origins) == {
        "data",
        "store",
        "playbooks",
        "roster",
        "listen",
        "max_body_bytes",
        "max_batch",
        "log_format",
        "log_level",
        "intake_secrets",
        "rate_limit_per_minute",
        "intake_rate_limit_per_minute",
        "admin_roles",
        "sqlite_synchronous",
        "max_clock_skew_ms",
    }
    assert config.sqlite_synchronous == "full"  # every acknowledged commit survives a power loss


def test_flags_win_over_the_environment_which_wins_over_the_file_which_wins_over_defaults(tmp_path: Path) -> None:
    file = config_file(tmp_path, "listen: 127.0.0.1:1001\nlog_level: debug\nmax_batch: 10\n")
    environment = {"CALMLY_LISTEN": "127.0.0.1:2002", "CALMLY_LOG_LEVEL": "warning"}
    flags = {"listen": "127.0.0.1:3003", "log_level": None}

    config = load_config(file, environment, flags)

    assert config.listen == "127.0.0.1:3003"  # flag over environment and file
    assert config.log_level == "warning"  # environment over file (the flag was not given)
    assert config.max_batch == 10  # file over default
    assert config.max_body_bytes == DEFAULTS.max_body_bytes
    assert dict(config.origins) == {
        "listen": "flag",
        "log_level": "CALMLY_LOG_LEVEL",
        "max_batch": file.as_posix(),
        "max_body_bytes": "default",
        "data": "default",
        "store": "default",
        "playbooks": "default",
        "roster": "default",
        "log_format": "default",
        "intake_secrets": "default",
        "rate_limit_per_minute": "default",
        "intake_rate_limit_per_minute": "default",
        "admin_roles": "default",
        "sqlite_synchronous": "default",
        "max_clock_skew_ms": "default",
    }


def test_every_setting_can_come_from_its_environment_variable() -> None:
    environment = {
        "CALMLY_DATA": "/srv/calmly",
        "CALMLY_STORE": "postgresql://calmly@db.internal:5432/calmly",
        "CALMLY_PLAYBOOKS": os.pathsep.join(["/srv/playbooks", "/srv/more"]),
        "CALMLY_ROSTER": "/srv/roster.yaml",
        "CALMLY_LISTEN": "[::1]:9000",
        "CALMLY_MAX_BODY_BYTES": "2048",
        "CALMLY_MAX_BATCH": "5",
        "CALMLY_LOG_FORMAT": "json",
        "CALMLY_LOG_LEVEL": "error",
        "CALMLY_INTAKE_SECRETS": SECRET,
        "CALMLY_RATE_LIMIT_PER_MINUTE": "60",
        "CALMLY_INTAKE_RATE_LIMIT_PER_MINUTE": "6000",
        "CALMLY_ADMIN_ROLES": "comms_director",
        "CALMLY_SQLITE_SYNCHRONOUS": "normal",
        "CALMLY_MAX_CLOCK_SKEW_MS": "500",
    }

    config = load_config(None, environment, NO_FLAGS)

    assert config == Config(
        data=Path("/srv/calmly"),
        store="postgresql://calmly@db.internal:5432/calmly",
        playbooks=(Path("/srv/playbooks"), Path("/srv/more")),
        roster=Path("/srv/roster.yaml"),
        listen="[::1]:9000",
        max_body_bytes=2048,
        max_batch=5,
        log_format="json",
        log_level="error",
        intake_secrets=(SECRET,),
        rate_limit_per_minute=60,
        intake_rate_limit_per_minute=6000,
        admin_roles=("comms_director",),
        sqlite_synchronous="normal",
        max_clock_skew_ms=500,
    )
    assert (config.host, config.port) == ("::1", 9000)
    assert set(config.origins.values()) == set(environment)


def test_an_empty_environment_variable_counts_as_not_set(tmp_path: Path) -> None:
    file = config_file(tmp_path, "listen: 127.0.0.1:1001\n")

    config = load_config(file, {"CALMLY_LISTEN": ""}, NO_FLAGS)

    assert config.listen == "127.0.0.1:1001"
    assert config.origins["listen"] == file.as_posix()


def test_relative_paths_in_the_file_are_relative_to_its_folder(tmp_path: Path) -> None:
    file = config_file(
        tmp_path / "etc" / "calmly",
        "data: store\nroster: team/roster.yaml\nplaybooks: [playbooks, ../common/playbooks]\n",
    )

    config = load_config(file, {}, NO_FLAGS)

    folder = tmp_path / "etc" / "calmly"
    assert config.data == folder / "store"
    assert config.roster == folder / "team" / "roster.yaml"
    assert config.playbooks == (folder / "playbooks", folder / "../common/playbooks")


def test_a_single_playbooks_path_in_the_file_is_a_list_of_one(tmp_path: Path) -> None:
    config = load_config(config_file(tmp_path, "playbooks: books\n"), {}, NO_FLAGS)

    assert config.playbooks == (tmp_path / "books",)


def test_absolute_paths_in_the_file_stay_as_written(tmp_path: Path) -> None:
    config = load_config(config_file(tmp_path / "conf", "data: /var/lib/calmly\n"), {}, NO_FLAGS)

    assert config.data == Path("/var/lib/calmly")


def test_paths_from_flags_and_the_environment_stay_relative_to_where_calmly_runs(tmp_path: Path) -> None:
    file = config_file(tmp_path / "conf", "data: store\n")

    config = load_config(file, {"CALMLY_ROSTER": "team.yaml"}, {"data": "here", "playbooks": "a" + os.pathsep + "b"})

    assert config.data == Path("here")
    assert config.roster == Path("team.yaml")
    assert config.playbooks == (Path("a"), Path("b"))


def test_the_config_file_can_be_named_by_calmly_config(tmp_path: Path) -> None:
    file = config_file(tmp_path, "max_batch: 7\n")

    config = load_config(None, {"CALMLY_CONFIG": str(file)}, NO_FLAGS)

    assert config.max_batch == 7
    assert config.origins["max_batch"] == file.as_posix()


def test_the_config_file_given_wins_over_calmly_config(tmp_path: Path) -> None:
    chosen = config_file(tmp_path, "max_batch: 7\n", "chosen.yaml")
    other = config_file(tmp_path, "max_batch: 8\n", "other.yaml")

    config = load_config(chosen, {"CALMLY_CONFIG": str(other)}, NO_FLAGS)

    assert config.max_batch == 7


def test_a_missing_config_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"

    with pytest.raises(ConfigError) as raised:
        load_config(missing, {}, NO_FLAGS)

    assert raised.value.problems == [f"{missing.as_posix()}: the config file does not exist"]


def test_every_bad_value_from_the_file_the_environment_and_the_flags_is_reported_together(tmp_path: Path) -> None:
    file = config_file(tmp_path, "listen: 127.0.0.1:8642\nmax_body_bytes: 10\nlisen: x\nlog_format: pretty\n")
    environment = {"CALMLY_LISTEN": "nonsense", "CALMLY_MAX_BATCH": "0", "CALMLY_MAX_BODY_BYTES": "lots"}
    flags = {"log_level": "loud", "listen": "127.0.0.1:70000"}

    with pytest.raises(ConfigError) as raised:
        load_config(file, environment, flags)

    problems = raised.value.problems
    name = file.as_posix()
    assert any(problem.startswith(f"{name}:2:17: E208 max_body_bytes must be at least 1024") for problem in problems)
    assert any(problem.startswith(f"{name}:3:1: E200 unknown key 'lisen'") for problem in problems)
    assert any(problem.startswith(f"{name}:4:13:") and "pretty" in problem for problem in problems)
    assert "CALMLY_LISTEN: listen is 'nonsense'; write an address and a port, such as 127.0.0.1:8642" in problems
    assert "CALMLY_MAX_BATCH: max_batch is '0'; write a whole number from 1 to 10000" in problems
    assert "CALMLY_MAX_BODY_BYTES: max_body_bytes is 'lots'; write a whole number from 1024 to 104857600" in problems
    assert "--log-level: log_level is 'loud'; write one of debug, info, warning, error" in problems
    assert any(problem.startswith("--listen: listen is '127.0.0.1:70000'") for problem in problems)
    assert len(problems) == 8
    assert str(raised.value) == "\n".join(problems)


@pytest.mark.parametrize(
    ("variable", "text"),
    [
        ("CALMLY_LISTEN", "8642"),
        ("CALMLY_LISTEN", "127.0.0.1:0"),
        ("CALMLY_LISTEN", "127.0.0.1:65536"),
        ("CALMLY_LISTEN", "http://127.0.0.1:8642"),
        ("CALMLY_MAX_BODY_BYTES", "1023"),
        ("CALMLY_MAX_BODY_BYTES", "-5"),
        ("CALMLY_MAX_BATCH", "10001"),
        ("CALMLY_LOG_FORMAT", "yaml"),
        ("CALMLY_LOG_LEVEL", "INFO"),
    ],
)
def test_a_bad_environment_variable_is_named_with_its_value(variable: str, text: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(None, {variable: text}, NO_FLAGS)

    (problem,) = raised.value.problems
    assert problem.startswith(f"{variable}: ")
    assert repr(text) in problem


@pytest.mark.parametrize("listen", ["127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:99999"])
def test_a_port_out_of_range_in_the_file_is_located_like_any_bad_value(tmp_path: Path, listen: str) -> None:
    file = config_file(tmp_path, f"log_level: debug\nlisten: '{listen}'\n")

    with pytest.raises(ConfigError) as raised:
        load_config(file, {}, NO_FLAGS)

    (problem,) = raised.value.problems
    assert problem.startswith(f"{file.as_posix()}:2:9: E208 listen is '{listen}'")
    assert "1 to 65535" in problem


def test_a_config_file_that_is_not_yaml_is_located(tmp_path: Path) -> None:
    file = config_file(tmp_path, "listen: [127.0.0.1\n")

    with pytest.raises(ConfigError) as raised:
        load_config(file, {}, NO_FLAGS)

    assert all(problem.startswith(f"{file.as_posix()}:") for problem in raised.value.problems)
    assert raised.value.problems


def test_config_file_values_keep_yaml_1_2_meaning(tmp_path: Path) -> None:
    # "on" is a string in YAML 1.2, so it is not a valid log level rather than silently True.
    file = config_file(tmp_path, "log_level: on\n")

    with pytest.raises(ConfigError) as raised:
        load_config(file, {}, NO_FLAGS)

    (problem,) = raised.value.problems
    assert problem.startswith(f"{file.as_posix()}:1:12:")


# --- signed intake, rate limit, admin roles ------------------------------------------------------------------------

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # base64 of 24 bytes
OTHER_SECRET = "whsec_" + "c2Vjb25kLXNlY3JldC1mb3Itcm90YXRpb24="


def test_intake_secrets_come_from_the_environment_comma_separated_for_rotation() -> None:
    config = load_config(None, {"CALMLY_INTAKE_SECRETS": f"{SECRET}, {OTHER_SECRET}"}, NO_FLAGS)

    assert config.intake_secrets == (SECRET, OTHER_SECRET)
    assert config.origins["intake_secrets"] == "CALMLY_INTAKE_SECRETS"


def test_intake_secrets_never_show_in_the_configuration_as_printed() -> None:
    config = load_config(None, {"CALMLY_INTAKE_SECRETS": SECRET}, NO_FLAGS)

    assert SECRET not in repr(config)
    assert SECRET.removeprefix("whsec_") not in str(config)


@pytest.mark.parametrize("text", ["whsec_not base64!", "plain-shared-secret", "whsec_c2hvcnQ="])
def test_a_bad_intake_secret_is_refused_without_repeating_it(text: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(None, {"CALMLY_INTAKE_SECRETS": f"{SECRET},{text}"}, NO_FLAGS)

    (problem,) = raised.value.problems
    assert problem.startswith("CALMLY_INTAKE_SECRETS: intake secret 2 of 2 is not a whsec_ secret")
    assert text not in problem
    assert SECRET not in problem


def test_intake_secrets_admin_roles_and_the_rate_limit_can_come_from_the_file(tmp_path: Path) -> None:
    file = config_file(
        tmp_path,
        f"intake_secrets: [{SECRET}]\nrate_limit_per_minute: 120\nadmin_roles: [social_lead, comms_director]\n",
    )

    config = load_config(file, {}, NO_FLAGS)

    assert config.intake_secrets == (SECRET,)
    assert config.rate_limit_per_minute == 120
    assert config.admin_roles == ("social_lead", "comms_director")


def test_a_bad_intake_secret_in_the_file_is_located_and_not_repeated(tmp_path: Path) -> None:
    file = config_file(tmp_path, "log_level: info\nintake_secrets: [hunter2]\n")

    with pytest.raises(ConfigError) as raised:
        load_config(file, {}, NO_FLAGS)

    (problem,) = raised.value.problems
    assert problem.startswith(f"{file.as_posix()}:2:17: E208 intake secret 1 of 1 is not a whsec_ secret")
    assert "hunter2" not in problem


def test_the_rate_limit_defaults_to_600_a_minute_and_0_turns_it_off() -> None:
    assert DEFAULTS.rate_limit_per_minute == 600
    assert load_config(None, {"CALMLY_RATE_LIMIT_PER_MINUTE": "0"}, NO_FLAGS).rate_limit_per_minute == 0

    with pytest.raises(ConfigError) as raised:
        load_config(None, {"CALMLY_RATE_LIMIT_PER_MINUTE": "lots"}, NO_FLAGS)
    assert raised.value.problems == [
        "CALMLY_RATE_LIMIT_PER_MINUTE: rate_limit_per_minute is 'lots'; write a whole number from 0 to 1000000"
    ]


def test_admin_roles_default_to_the_social_lead_and_come_from_the_environment_comma_separated() -> None:
    assert DEFAULTS.admin_roles == ("social_lead",)
    config = load_config(None, {"CALMLY_ADMIN_ROLES": "social_lead,comms_director"}, NO_FLAGS)
    assert config.admin_roles == ("social_lead", "comms_director")

    with pytest.raises(ConfigError) as raised:
        load_config(None, {"CALMLY_ADMIN_ROLES": "Social Lead"}, NO_FLAGS)
    assert raised.value.problems[0].startswith("CALMLY_ADMIN_ROLES: admin_roles has 'Social Lead'")


def test_sqlite_synchronous_comes_from_the_file_or_a_flag_and_a_bad_one_is_named(tmp_path: Path) -> None:
    from_file = load_config(config_file(tmp_path, "sqlite_synchronous: normal\n"), {}, NO_FLAGS)
    from_flag = load_config(None, {"CALMLY_SQLITE_SYNCHRONOUS": "normal"}, {**NO_FLAGS, "sqlite_synchronous": "full"})
    with pytest.raises(ConfigError) as refused:
        load_config(None, {"CALMLY_SQLITE_SYNCHRONOUS": "off"}, NO_FLAGS)

    assert from_file.sqlite_synchronous == "normal"
    assert from_flag.sqlite_synchronous == "full"
    assert "CALMLY_SQLITE_SYNCHRONOUS" in refused.value.problems[0]
    assert "full, normal" in refused.value.problems[0]


def test_the_clock_skew_limit_comes_from_the_file_or_the_environment_and_a_bad_one_is_named(tmp_path: Path) -> None:
    from_file = load_config(config_file(tmp_path, "max_clock_skew_ms: 0\n"), {}, NO_FLAGS)
    from_environment = load_config(None, {"CALMLY_MAX_CLOCK_SKEW_MS": "750"}, NO_FLAGS)
    with pytest.raises(ConfigError) as refused:
        load_config(None, {"CALMLY_MAX_CLOCK_SKEW_MS": "2s"}, NO_FLAGS)
    with pytest.raises(ConfigError) as located:
        load_config(config_file(tmp_path / "bad", "max_clock_skew_ms: -1\n"), {}, NO_FLAGS)

    assert DEFAULTS.max_clock_skew_ms == 2000
    assert from_file.max_clock_skew_ms == 0
    assert from_environment.max_clock_skew_ms == 750
    assert refused.value.problems == [
        "CALMLY_MAX_CLOCK_SKEW_MS: max_clock_skew_ms is '2s'; write a whole number from 0 to 3600000"
    ]
    assert "calmly.yaml:1:20: E208 max_clock_skew_ms must be at least 0" in located.value.problems[0]


def test_a_store_that_is_not_a_postgresql_url_is_refused_without_repeating_it(tmp_path: Path) -> None:
    file = config_file(tmp_path, "store: mysql://root:hunter2@db/calmly\n")

    with pytest.raises(ConfigError) as refused:
        load_config(file, {}, NO_FLAGS)

    (problem,) = refused.value.problems
    assert "the store is not a PostgreSQL URL" in problem
    assert "hunter2" not in problem
