"""docs/API.md's examples show what the API really answers: a documented value that is not "..." is the real one."""
import json
import re
from pathlib import Path

API_MD = Path(__file__).resolve().parents[2] / "docs" / "API.md"
# Differ from run to run, or name the test's own user: the example shows one possible value.
VARYING = {"id", "actor", "created_at", "started_at", "finished_at"}


def documented_answer(heading: str) -> dict:
    """The first JSON answer shown under the section `heading` of docs/API.md."""
    section = API_MD.read_text(encoding="utf-8").split(heading, 1)[1]
    return json.loads(re.search(r"```json\n(.*?)```", section, re.S).group(1))


def test_the_run_example_is_the_answer_an_agent_gets(client, api_token, demo_shop):
    documented = documented_answer("### `POST /api/v1/tasks/<name>/runs`")["run"]
    _agent, headers = api_token("agent")
    answer = client.post("/api/v1/tasks/unlock_account/runs", headers=headers | {"Idempotency-Key": "T-1042-unlock-1"},
                         json={"params": {"email": "locked@example.com"}, "ticket": "T-1042",
                               "reason": "customer locked out after too many password attempts"})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    real = answer.get_json()["run"]
    assert set(documented) <= set(real)
    shown = {key: value for key, value in documented.items() if key not in VARYING and value not in ("...", ["..."])}
    assert shown == {key: real[key] for key in shown}
    assert "locked@example.com" not in json.dumps(documented)
