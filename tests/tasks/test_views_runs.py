"""Run pages, run lists and approvals as others read them: personal data masked, times zoned, statuses in words."""
import re
from zoneinfo import ZoneInfo

from sqlalchemy import select

from console.audit.models import AuditEntry
from console.tasks.models import TaskRun
from tests.tasks.test_views import colleague  # noqa: F401 (a fixture, used by name)
from tests.tasks.test_views import REFUND, confirm, form_post, preview_refund, run_id_from, unlock_locked_customer

LOCKED, LOCKED_MASKED = "locked@example.com", "lo•••d@e•••.com"
ALICE, ALICE_MASKED = "alice@example.com", "al•••e@e•••.com"
# A timestamp printed raw, as the pages did before: "2026-11-27 14:05" or "2026-11-27T14:05:00".
RAW_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def visible_text(html: str) -> str:
    """The page's text without its markup, scripts and attribute values (a <time datetime="…"> is fine)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_the_typist_sees_the_values_in_the_preview_and_everyone_sees_them_masked_after(
        client, login_as, colleague, demo_shop, console_db):
    login_as("agent")
    path = "/admin/tasks/unlock_account/"
    preview = form_post(client, path, {"action": "preview", "email": LOCKED, "ticket": "T-5",
                                       "reason": f"{LOCKED} called about the lock"}).get_data(as_text=True)
    assert LOCKED in preview and LOCKED_MASKED not in preview  # the person who typed it
    run_id = run_id_from(confirm(client, path, preview))

    lead = colleague("lead")
    pages = {"run page (requester)": client.get(f"/admin/runs/{run_id}"),
             "run page (lead)": lead.get(f"/admin/runs/{run_id}"),
             "run list": lead.get("/admin/runs/"), "requester's home": client.get("/admin/"),
             "audit list": lead.get("/admin/audit/")}
    intent = console_db.scalar(select(AuditEntry.seq).where(AuditEntry.action == "task.intent",
                                                            AuditEntry.subject_id == str(run_id)))
    pages["audit entry"] = lead.get(f"/admin/audit/entry/{intent}")
    for name, response in pages.items():
        html = response.get_data(as_text=True)
        assert response.status_code == 200, name
        assert LOCKED not in html, f"{name} shows the email unmasked"
        assert LOCKED_MASKED in html, name
    run_page = pages["run page (lead)"].get_data(as_text=True)
    assert f"Unlocked {LOCKED_MASKED}" in run_page  # the task's result, masked where it repeats the email
    assert f"{LOCKED_MASKED} called about the lock" in run_page  # and the reason typed by the agent
    console_db.expire_all()
    run = console_db.get(TaskRun, run_id)
    assert run.customer == LOCKED and LOCKED in run.params and LOCKED in run.result  # stored as written


def test_the_approval_queue_masks_the_customer_and_names_the_task(client, login_as, colleague, demo_shop):
    login_as("agent")
    run_id = run_id_from(confirm(client, REFUND, preview_refund(client, amount="120.00").get_data(as_text=True)))
    lead = colleague("lead")
    for path in ("/admin/approvals/", "/admin/", f"/admin/runs/{run_id}"):
        html = lead.get(path).get_data(as_text=True)
        assert ALICE not in html, path
        assert "Refund an order" in html, path
    queue = lead.get("/admin/approvals/").get_data(as_text=True)
    row = re.search(rf"Review run #{run_id}.*?</tr>", queue, re.S).group(0)
    assert ALICE_MASKED in row and "order 1004" in row and "refund_order" not in row
    assert re.search(r'<td class="text-nowrap text-right">EUR 120\.00</td>', row)  # the amount, in euros
    assert "Approving it will change the refunded amount of Order 1004, add a new refund for order 1004 and " \
           "send 1 email." in row  # what it does, as the preview said it
    assert re.search(rf"Run #{run_id}: Refund an order, EUR 120\.00</a>", lead.get("/admin/").get_data(as_text=True))
    run_page = lead.get(f"/admin/runs/{run_id}").get_data(as_text=True)
    assert re.search(r'Approving it will change the refunded amount of Order 1004, add a new refund '
                     r'for order 1004 and send 1 email\.', run_page)
    assert '<tr><th scope="row">Amount to refund</th><td>EUR 120.00</td></tr>' in run_page
    assert re.search(r'data-column="refunded_cents">Refunded amount <span class="sr-only">\(changes\)</span></th>\s*'
                     r'<td class="diff-before">EUR 0\.00</td>\s*<td class="diff-after">EUR 120\.00</td>', run_page)
    assert f"Email “We have refunded EUR 120.00 on order 1004” to {ALICE_MASKED}" in run_page
    assert "refund_issued" not in run_page  # the template's name is the product's word, not the agent's


def test_times_are_shown_in_the_display_zone_with_the_zone_named(
        app, client, login_as, colleague, demo_shop, monkeypatch):
    monkeypatch.setitem(app.extensions, "display_zone", ZoneInfo("America/New_York"))
    login_as("agent")
    run_id = unlock_locked_customer(client)
    refund_id = run_id_from(confirm(client, REFUND, preview_refund(client, amount="120.00").get_data(as_text=True)))
    lead = colleague("lead")
    for path in (f"/admin/runs/{run_id}", f"/admin/runs/{refund_id}", "/admin/runs/", "/admin/approvals/",
                 "/admin/audit/", "/admin/"):
        html = lead.get(path).get_data(as_text=True)
        times = re.findall(r'<time datetime="(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)Z" data-local-time[^>]*>([^<]+)</time>',
                           html)
        assert times, path
        assert all(re.fullmatch(r"\d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d(:\d\d)? E[SD]T", text) for _, text in times), \
            (path, times[:3])
        raw = RAW_TIME.search(visible_text(html))
        assert raw is None, f"{path} shows a raw time: {raw.group(0)}"


def test_the_intent_of_a_succeeded_run_reads_as_started_and_links_its_outcome(client, login_as, colleague,
                                                                              demo_shop, console_db):
    login_as("agent")
    run_id = unlock_locked_customer(client)
    entries = {action: seq for seq, action in console_db.execute(
        select(AuditEntry.seq, AuditEntry.action).where(AuditEntry.subject_type == "task_run",
                                                        AuditEntry.subject_id == str(run_id)))}
    assert console_db.get(AuditEntry, entries["task.intent"]).outcome == "interrupted"  # as stored, and hashed
    lead = colleague("lead")
    run_page = lead.get(f"/admin/runs/{run_id}").get_data(as_text=True)
    audit = run_page.split('id="audit-heading"', 1)[1]
    assert "interrupted" not in audit
    assert f'>started</span> <small class="text-muted">(ended at seq {entries["task.outcome"]})' in audit
    entry = lead.get(f"/admin/audit/entry/{entries['task.intent']}").get_data(as_text=True)
    assert "interrupted" not in visible_text(entry)
    assert f'<a href="/admin/audit/entry/{entries["task.outcome"]}" id="outcome-link">' in entry
    listing = lead.get("/admin/audit/", query_string={"outcome": "interrupted"}).get_data(as_text=True)
    row = re.search(rf'href="/admin/audit/entry/{entries["task.intent"]}".*?</tr>', listing, re.S).group(0)
    assert ">started</span>" in row and "interrupted" not in row


def test_the_product_owner_never_sees_unmasked_personal_data(app, client, login_as, demo_shop, colleague):
    agent = colleague("agent")
    path = "/admin/tasks/unlock_account/"
    preview = form_post(agent, path, {"action": "preview", "email": LOCKED, "ticket": "T-PO",
                                      "reason": "customer called"}).get_data(as_text=True)
    run_id_from(confirm(agent, path, preview))
    run_id_from(confirm(agent, REFUND, preview_refund(agent, amount="120.00", ticket="T-PO").get_data(as_text=True)))
    login_as("product_owner")
    pages = [rule.rule for rule in app.url_map.iter_rules()
             if rule.rule.startswith("/admin") and "GET" in rule.methods and not rule.arguments
             and "static" not in rule.rule and not rule.rule.endswith((".csv", "/csv/<panel>"))]
    pages += ["/admin/records/customers/?q=locked", "/admin/records/orders/1004", "/admin/tickets/view?ref=T-PO",
              "/admin/runs/?ticket=T-PO", "/admin/on-duty/"]
    seen = 0
    for page in pages:
        response = client.get(page)
        html = response.get_data(as_text=True)
        assert LOCKED not in html and ALICE not in html, page
        seen += response.status_code == 200
    assert seen >= 5  # the pages a product owner works in were really read
