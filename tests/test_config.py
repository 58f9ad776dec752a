"""Configuration from the environment and its one-line errors."""
import os

import pytest

from console.config import ConfigError, load_config


def test_relative_sqlite_paths_resolve_against_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = load_config({"SECRET_KEY": "k", "CONSOLE_AUDIT_KEY": "a"})
    assert cfg["CONSOLE_DATABASE_URL"] == f"sqlite:///{tmp_path}/instance/console.db"
    assert cfg["TARGET_DATABASE_URL"] == f"sqlite:///{tmp_path}/instance/shop.db"


def test_malformed_target_url_is_one_clear_line(monkeypatch):
    monkeypatch.setenv("TARGET_DATABASE_URL", "not a url")
    with pytest.raises(ConfigError) as err:
        load_config({"SECRET_KEY": "k", "CONSOLE_AUDIT_KEY": "a"})
    assert "TARGET_DATABASE_URL" in str(err.value) and "\n" not in str(err.value)


def test_unsupported_database_is_refused(monkeypatch):
    monkeypatch.setenv("TARGET_DATABASE_URL", "oracle://scott@localhost/x")
    with pytest.raises(ConfigError, match="TARGET_DATABASE_URL: unsupported database 'oracle'; use sqlite, postgresql"):
        load_config({"SECRET_KEY": "k", "CONSOLE_AUDIT_KEY": "a"})


@pytest.mark.parametrize("url", ["mysql+pymysql://root@127.0.0.1/x", "mariadb+pymysql://root@127.0.0.1/x"])
def test_the_console_database_may_not_be_mysql(monkeypatch, url):
    monkeypatch.setenv("CONSOLE_DATABASE_URL", url)
    with pytest.raises(ConfigError) as err:
        load_config({"SECRET_KEY": "k", "CONSOLE_AUDIT_KEY": "a"})
    assert str(err.value).startswith(
        "CONSOLE_DATABASE_URL: the console's own database must be SQLite or PostgreSQL") and "\n" not in str(err.value)


def test_the_target_database_may_be_mysql(monkeypatch):
    monkeypatch.setenv("TARGET_DATABASE_URL", "mysql+pymysql://root@127.0.0.1:3306/shop")
    assert load_config({"SECRET_KEY": "k", "CONSOLE_AUDIT_KEY": "a"})["TARGET_DATABASE_URL"] == (
        "mysql+pymysql://root@127.0.0.1:3306/shop")


def test_secret_key_is_required_outside_demo(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY is not set.*export SECRET_KEY"):
        load_config()


def test_demo_generates_and_keeps_secrets_in_instance(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("CONSOLE_AUDIT_KEY", raising=False)
    first = load_config(demo=True)
    second = load_config(demo=True)
    assert first["SECRET_KEY"] == second["SECRET_KEY"] and len(first["SECRET_KEY"]) > 40
    assert first["CONSOLE_AUDIT_KEY"] != first["SECRET_KEY"]
    assert oct(os.stat(tmp_path / "instance" / "secret_key").st_mode & 0o777) == "0o600"


def test_environment_lists_are_parsed(monkeypatch):
    monkeypatch.setenv("DISABLED_TASKS", "cancel_order, refund_order,")
    monkeypatch.setenv("TASK_PACKAGES", "admin_tasks,more_tasks")
    cfg = load_config({"SECRET_KEY": "k", "CONSOLE_AUDIT_KEY": "a"})
    assert cfg["DISABLED_TASKS"] == ["cancel_order", "refund_order"]
    assert cfg["TASK_PACKAGES"] == ["admin_tasks", "more_tasks"]


@pytest.mark.parametrize("variable", ["CONSOLE_SESSION_IDLE_MINUTES", "CONSOLE_SESSION_ABSOLUTE_HOURS",
                                      "CONSOLE_APPROVAL_TTL_HOURS"])
@pytest.mark.parametrize("value", ["soon", "0", "-5", "1.5"])
def test_a_malformed_number_names_its_variable(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=f"{variable} must be a whole number of at least 1"):
        load_config({"SECRET_KEY": "k", "CONSOLE_AUDIT_KEY": "a"})


def test_numbers_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("CONSOLE_SESSION_IDLE_MINUTES", "15")
    assert load_config({"SECRET_KEY": "k", "CONSOLE_AUDIT_KEY": "a"})["SESSION_IDLE_MINUTES"] == 15


@pytest.mark.parametrize("value", ["0", "often", "-1"])
def test_a_malformed_checkpoint_interval_stops_start_up(monkeypatch, value):
    from console import create_app

    monkeypatch.setenv("CONSOLE_AUDIT_CHECKPOINT_EVERY", value)
    with pytest.raises(ConfigError, match="CONSOLE_AUDIT_CHECKPOINT_EVERY must be a whole number of at least 1"):
        create_app({"SECRET_KEY": "k", "CONSOLE_AUDIT_KEY": "a", "CONSOLE_DATABASE_URL": "sqlite://",
                    "TARGET_DATABASE_URL": "sqlite://"})


KEYS = {"SECRET_KEY": "k", "CONSOLE_AUDIT_KEY": "a"}


def test_a_webhook_url_without_a_secret_stops_start_up(monkeypatch):
    monkeypatch.setenv("CONSOLE_WEBHOOK_URL", "https://hooks.example.com/services/x")
    monkeypatch.delenv("CONSOLE_WEBHOOK_SECRET", raising=False)
    with pytest.raises(ConfigError) as err:
        load_config(KEYS)
    assert str(err.value).startswith("CONSOLE_WEBHOOK_SECRET must be set") and "\n" not in str(err.value)
    monkeypatch.setenv("CONSOLE_WEBHOOK_SECRET", "too-short")
    with pytest.raises(ConfigError, match="CONSOLE_WEBHOOK_SECRET must be set, at least 16 characters"):
        load_config(KEYS)
    monkeypatch.setenv("CONSOLE_WEBHOOK_SECRET", "s" * 16)
    cfg = load_config(KEYS)
    assert (cfg["WEBHOOK_URL"], cfg["WEBHOOK_SECRET"]) == ("https://hooks.example.com/services/x", "s" * 16)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "hooks.example.com/x", "https://"])
def test_a_webhook_url_must_be_http(monkeypatch, url):
    monkeypatch.setenv("CONSOLE_WEBHOOK_URL", url)
    monkeypatch.setenv("CONSOLE_WEBHOOK_SECRET", "s" * 16)
    with pytest.raises(ConfigError, match="CONSOLE_WEBHOOK_URL must be an http:// or https:// URL"):
        load_config(KEYS)


def test_webhook_retry_settings_come_from_the_environment(monkeypatch):
    monkeypatch.delenv("CONSOLE_WEBHOOK_URL", raising=False)
    monkeypatch.setenv("CONSOLE_WEBHOOK_RETRY_BASE_SECONDS", "0.5")
    monkeypatch.setenv("CONSOLE_WEBHOOK_GIVE_UP_HOURS", "48")
    cfg = load_config(KEYS)
    assert (cfg["WEBHOOK_RETRY_BASE_SECONDS"], cfg["WEBHOOK_RETRY_MAX_SECONDS"], cfg["WEBHOOK_GIVE_UP_HOURS"],
            cfg["WEBHOOK_TIMEOUT_SECONDS"]) == (0.5, 300, 48, 3)


@pytest.mark.parametrize("variable, value", [("CONSOLE_WEBHOOK_RETRY_BASE_SECONDS", "0"),
                                             ("CONSOLE_WEBHOOK_RETRY_MAX_SECONDS", "soon"),
                                             ("CONSOLE_WEBHOOK_GIVE_UP_HOURS", "-1"),
                                             ("CONSOLE_WEBHOOK_TIMEOUT_SECONDS", "9999")])
def test_a_malformed_webhook_setting_names_its_variable(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=f"^{variable} must be a number above 0"):
        load_config(KEYS)


def test_the_retry_cap_is_not_below_the_first_wait(monkeypatch):
    monkeypatch.setenv("CONSOLE_WEBHOOK_RETRY_BASE_SECONDS", "60")
    monkeypatch.setenv("CONSOLE_WEBHOOK_RETRY_MAX_SECONDS", "10")
    with pytest.raises(ConfigError, match="CONSOLE_WEBHOOK_RETRY_MAX_SECONDS must be at least"):
        load_config(KEYS)
@pytest.mark.parametrize("value", ["-1", "one", "1.5", "2 proxies"])
def test_a_malformed_proxy_count_names_its_variable(monkeypatch, value):
    monkeypatch.setenv("CONSOLE_TRUSTED_PROXIES", value)
    with pytest.raises(ConfigError, match="^CONSOLE_TRUSTED_PROXIES must be a whole number of at least 0"):
        load_config({"SECRET_KEY": "k", "CONSOLE_AUDIT_KEY": "a"})


def test_no_proxy_is_trusted_unless_told(monkeypatch):
    monkeypatch.delenv("CONSOLE_TRUSTED_PROXIES", raising=False)
    assert load_config({"SECRET_KEY": "k", "CONSOLE_AUDIT_KEY": "a"})["TRUSTED_PROXIES"] == 0
    monkeypatch.setenv("CONSOLE_TRUSTED_PROXIES", " 2 ")
    assert load_config({"SECRET_KEY": "k", "CONSOLE_AUDIT_KEY": "a"})["TRUSTED_PROXIES"] == 2
