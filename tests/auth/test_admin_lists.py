"""The admin lists (staff users, API tokens) in a browser: named checkboxes, no inline script, zoned times."""
import re

from console.auth.admin import StaffUserView
from console.auth.models import StaffUser
from tests.committed import make_committed_user
from tests.conftest import AuthActions

# An inline event handler attribute (onclick=, onchange=, …): the CSP blocks them, so a button with one is dead.
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


def test_every_checkbox_of_the_token_list_has_a_name(client, login_as, api_token):
    user, _headers = api_token("agent")
    login_as("admin")
    html = client.get("/admin/api_tokens/").get_data(as_text=True)
    boxes = re.findall(r'<input type="checkbox"[^>]*>', html)
    assert len(boxes) >= 2  # select-all, and one per token
    assert all(re.search(r'aria-label="[^"]+"', box) for box in boxes), boxes
    assert 'aria-label="Select all rows on this page"' in boxes[0]
    # The label starts with the token's prefix, which may hold "-" and "_" (URL-safe base64).
    assert re.search(r'class="action-checkbox"[^>]*aria-label="Select [\w-]+… \(test\)"', html)


def test_the_admin_lists_carry_no_inline_event_handlers(client, login_as, api_token):
    api_token("agent")
    login_as("admin")
    for path in ("/admin/staff_users/", "/admin/api_tokens/"):
        html = client.get(path).get_data(as_text=True)
        handler = INLINE_HANDLER.search(html)
        assert handler is None, f"{path}: {handler.group(0)[:120]}"
    tokens = client.get("/admin/api_tokens/").get_data(as_text=True)
    assert '<a class="dropdown-item" href="#" role="button" data-model-action="revoke">Revoke</a>' in tokens
    staff = client.get("/admin/staff_users/").get_data(as_text=True)
    assert 'class="dropdown-item filter">Role</a>' in staff
    assert re.search(r'<script nonce="[^"]+" src="/static/admin_actions\.js"></script>', staff)


def test_times_in_the_admin_lists_are_zoned(client, login_as, console_db):
    admin = login_as("admin")
    html = client.get("/admin/staff_users/").get_data(as_text=True)
    table = html.split('<table class="table table-striped', 1)[1]
    row = re.search(rf"{re.escape(admin.email)}.*?</tr>", table, re.S).group(0)
    assert re.search(r'<time datetime="[\d\-T:]+Z" data-local-time>\d{1,2} \w{3} \d{4}, \d\d:\d\d UTC</time>', row)


def test_the_staff_details_page_shows_zoned_times(client, login_as):
    admin = login_as("admin")
    details = client.get(f"/admin/staff_users/details/?id={admin.id}")
    assert details.status_code == 200
    assert "data-local-time data-seconds" in details.get_data(as_text=True)


class DeletableStaffView(StaffUserView):
    """A model view with row deletion, which no console view offers yet: the template must still be CSP-safe."""

    can_delete = True


def test_a_row_delete_asks_through_data_confirm_not_an_inline_handler(isolated_app):
    app = isolated_app()
    app.extensions["admin"][0].add_view(DeletableStaffView(StaffUser, app.extensions["console_db"].console,
                                                           name="Deletable", endpoint="deletable_staff"))
    email = make_committed_user(app, "admin")
    client = app.test_client()
    assert AuthActions(client).login(email).status_code == 302
    html = client.get("/admin/deletable_staff/").get_data(as_text=True)
    button = re.search(r'<form class="icon" method="POST" action="/admin/deletable_staff/delete/">.*?</form>',
                       html, re.S).group(0)
    assert 'data-confirm="Are you sure you want to delete this record?"' in button
    assert 'name="csrf_token"' in button and INLINE_HANDLER.search(html) is None


def test_roles_are_shown_by_title_wherever_people_read_them(client, login_as, make_user):
    owner = make_user("product_owner")
    login_as("admin")
    staff = client.get("/admin/staff_users/").get_data(as_text=True)
    table = staff.split('<table class="table table-striped', 1)[1]
    row = re.search(rf"{re.escape(owner.email)}.*?</tr>", table, re.S).group(0)
    assert "Product owner" in row and "product_owner" not in row
    details = client.get(f"/admin/staff_users/details/?id={owner.id}").get_data(as_text=True)
    assert "Product owner" in details and "product_owner" not in details
    form = client.get(f"/admin/staff_users/edit/?id={owner.id}").get_data(as_text=True)
    assert re.search(r'<option selected value="product_owner">Product owner</option>', form), form
    # The filter offers the titles too; the value sent stays the slug.
    assert '"product_owner", "Product owner"' in staff.replace("[", "").replace("]", "")
    issue = client.get("/admin/api_tokens/issue/").get_data(as_text=True)
    assert f"{owner.email} (Product owner)" in issue and "(product_owner)" not in issue
    assert "badge-light\">Admin</span>" in issue  # the signed-in user's role in the top bar


def test_a_forbidden_page_names_the_role_by_its_title(client, login_as):
    login_as("product_owner")
    page = client.get("/admin/staff_users/")
    assert page.status_code == 403
    assert "Your role (Product owner) does not allow this page" in page.get_data(as_text=True)


def test_revoking_tokens_says_how_many_in_words(client, login_as, console_db, make_user):
    from console.auth.models import ApiToken
    from console.auth.services import create_token
    from tests.conftest import csrf_token_from

    owner = make_user("agent")
    for name in ("one", "two", "three"):
        create_token(console_db, owner, name)
    ids = [token.id for token in console_db.query(ApiToken).filter_by(user_id=owner.id).order_by(ApiToken.id)]
    login_as("admin")

    def revoke(rows) -> str:
        csrf = csrf_token_from(client.get("/admin/api_tokens/").get_data(as_text=True))
        response = client.post("/admin/api_tokens/action/", data={"action": "revoke", "rowid": rows,
                                                                  "csrf_token": csrf}, follow_redirects=True)
        return response.get_data(as_text=True)

    assert "Revoked 1 token." in revoke([ids[0]])
    assert "Revoked 2 tokens." in revoke(ids[1:])
