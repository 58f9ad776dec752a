"""Discovery of task plugins, the app's registry, and who may run what."""
from types import SimpleNamespace

import pytest

from console import create_app
from console.config import ConfigError
from console.tasks.registry import TaskRegistry, check_packages, discover, may_run, task_registry
from console.tasks.spec import TaskDefinitionError
from tests.conftest import config_for
from tests.tasks.fake_tasks import SHOP

FAKES = "tests.tasks.fake_tasks"
SHOP_NAMES = {"fake_refund", "fake_set_status", "fake_broken_write", "fake_crash", "fake_unlock",
              "fake_unlock_custom", "fake_disable", "fake_lead_only", "fake_erase", "fake_secret", "fake_every_type",
              "fake_change_email", "fake_reset"}


def user(role):
    return SimpleNamespace(role=role, is_authenticated=True, is_active=True)


def test_discovery_finds_every_task_of_the_package():
    registry = discover([SHOP])

    assert {spec.name for spec in registry} == SHOP_NAMES
    assert registry.get("fake_refund").file == "tests/tasks/fake_tasks/shop/orders.py"
    assert registry.get("fake_refund").module == f"{SHOP}.orders"
    assert registry.get("nope") is None and "nope" not in registry and "fake_refund" in registry


def test_a_task_imported_into_another_module_is_not_found_twice():
    # accounts.py calls fake_unlock from fake_unlock_custom; only the defining module registers it.
    assert [spec.name for spec in discover([SHOP]) if spec.name == "fake_unlock"] == ["fake_unlock"]


def test_tasks_are_listed_by_category_then_title():
    titles = [(spec.category, spec.title) for spec in discover([SHOP])]

    assert titles == sorted(titles, key=lambda pair: (pair[0].lower(), pair[1].lower()))


def test_disabled_tasks_are_never_resolved_but_still_listed_for_the_cli():
    registry = discover([SHOP], disabled="fake_crash, fake_typo")

    assert registry.get("fake_crash") is None
    assert "fake_crash" not in {spec.name for spec in registry}
    assert "fake_crash" in {spec.name for spec in registry.all_specs()}
    assert registry.unknown_disabled == ["fake_typo"]


def test_duplicate_names_stop_discovery_and_name_both_files():
    with pytest.raises(TaskDefinitionError) as caught:
        discover([f"{FAKES}.duplicate"])

    message = str(caught.value)
    assert message.startswith("tests/tasks/fake_tasks/duplicate/second.py: task 'twin' is already defined in "
                              "tests/tasks/fake_tasks/duplicate/first.py")


def test_a_missing_annotation_stops_discovery_and_names_the_file():
    with pytest.raises(TaskDefinitionError) as caught:
        discover([f"{FAKES}.unannotated"])

    assert caught.value.file == "tests/tasks/fake_tasks/unannotated/__init__.py"
    assert "parameter 'order_id' has no type annotation" in caught.value.detail


def test_an_unknown_type_stops_discovery_and_names_the_file():
    with pytest.raises(TaskDefinitionError) as caught:
        discover([f"{FAKES}.unknown_type"])

    assert str(caught.value).startswith("tests/tasks/fake_tasks/unknown_type/__init__.py: task 'unknown_type'")


def test_a_plugin_that_cannot_import_names_its_file():
    with pytest.raises(TaskDefinitionError) as caught:
        discover([f"{FAKES}.broken_import"])

    assert caught.value.file == "tests/tasks/fake_tasks/broken_import/broken.py"
    assert "RuntimeError: this plugin is broken at import" in caught.value.detail


def test_an_unknown_package_is_an_error():
    with pytest.raises(TaskDefinitionError) as caught:
        discover(["no_such_task_package"])
    assert "cannot import no_such_task_package" in str(caught.value)


def test_check_packages_lists_every_invalid_plugin_without_stopping():
    problems = check_packages([SHOP, f"{FAKES}.duplicate", f"{FAKES}.unannotated", f"{FAKES}.unknown_type",
                               f"{FAKES}.broken_import"])

    assert [file for file, _message in problems] == [
        "tests/tasks/fake_tasks/duplicate/second.py",
        "tests/tasks/fake_tasks/unannotated/__init__.py",
        "tests/tasks/fake_tasks/unknown_type/__init__.py",
        "tests/tasks/fake_tasks/broken_import/broken.py",
    ]
    assert check_packages(SHOP) == []


def test_the_registry_belongs_to_the_app(app, database_urls):
    other = create_app(config_for(database_urls, TASK_PACKAGES=[SHOP]))

    assert "fake_refund" in task_registry(other) and "fake_refund" not in task_registry(app)
    assert isinstance(task_registry(app), TaskRegistry)
    other.extensions["console_db"].dispose()


def test_a_broken_plugin_stops_start_up(database_urls):
    with pytest.raises(TaskDefinitionError, match="duplicate/second.py"):
        create_app(config_for(database_urls, TASK_PACKAGES=[SHOP, f"{FAKES}.duplicate"]))


def test_malformed_policy_config_stops_start_up(database_urls):
    with pytest.raises(ConfigError, match=r"TASK_RATE_LIMITS\['fake_refund'\]"):
        create_app(config_for(database_urls, TASK_PACKAGES=[SHOP], TASK_RATE_LIMITS={"fake_refund": "lots"}))


def test_who_may_run_a_task():
    registry = discover([SHOP])
    unlock, lead_only, disable = (registry.get(n) for n in ("fake_unlock", "fake_lead_only", "fake_disable"))

    assert may_run(user("agent"), unlock) and may_run(user("admin"), unlock)
    assert not may_run(user("product_owner"), unlock) and not may_run(user("developer"), unlock)
    assert not may_run(user("agent"), lead_only) and may_run(user("lead"), lead_only)
    assert may_run(user("agent"), disable)  # agents may request high-risk runs
    assert not may_run(None, unlock)
    assert not may_run(SimpleNamespace(role="agent", is_authenticated=True, is_active=False), unlock)


def test_a_high_risk_needs_the_request_permission(monkeypatch):
    from console import permissions

    monkeypatch.setitem(permissions.ROLE_PERMISSIONS, "agent", frozenset({permissions.RUN_TASKS}))
    registry = discover([SHOP])

    assert not may_run(user("agent"), registry.get("fake_disable"))
    assert may_run(user("agent"), registry.get("fake_refund"))  # the risk depends on the amount
    assert not may_run(user("agent"), registry.get("fake_refund"), risk="high")


def test_for_user_and_by_category():
    registry = discover([SHOP])

    assert registry.for_user(user("product_owner")) == []
    agent = {spec.name for spec in registry.for_user(user("agent"))}
    assert agent == SHOP_NAMES - {"fake_lead_only"}
    grouped = registry.by_category(user("lead"))
    assert set(grouped) == {"Orders", "Accounts", "Other"}
    assert "fake_lead_only" in {spec.name for spec in grouped["Accounts"]}



def test_offered_on_lists_a_records_enabled_tasks_the_user_may_run_in_the_registry_order():
    registry = discover(["admin_tasks"], disabled="refund_order")
    specs = list(registry)
    records = {spec.offered_on for spec in specs}
    assert records == {"customers", "orders"}
    for record in records:
        for role in ("agent", "lead", "product_owner", "admin"):
            expected = [s for s in specs if s.offered_on == record and may_run(user(role), s)]
            assert registry.offered_on(record, user(role)) == expected
    assert "refund_order" not in {spec.name for spec in registry.offered_on("orders", user("admin"))}
    assert {spec.name for spec in registry.offered_on("orders", user("admin"))} >= {"cancel_order", "fix_stuck_order"}
    assert registry.offered_on("no_such_record", user("admin")) == []
    assert len(registry) == len(specs) == len(registry.all_specs()) - 1


def test_offered_on_answers_per_role_yet_follows_a_replaced_spec_and_the_users_state(monkeypatch):
    import dataclasses

    registry = discover(["admin_tasks"])
    before = [spec.name for spec in registry.offered_on("customers", user("agent"))]
    assert "unlock_account" in before
    answer = registry.offered_on("customers", user("agent"))
    answer.clear()  # a caller's copy: the next page is not changed by it
    assert [spec.name for spec in registry.offered_on("customers", user("agent"))] == before
    monkeypatch.setitem(registry._specs, "unlock_account",
                        dataclasses.replace(registry._specs["unlock_account"], roles=frozenset({"lead"})))
    assert [spec.name for spec in registry.offered_on("customers", user("agent"))] == \
        [name for name in before if name != "unlock_account"]
    inactive = SimpleNamespace(role="agent", is_authenticated=True, is_active=False)
    assert registry.offered_on("customers", inactive) == []
