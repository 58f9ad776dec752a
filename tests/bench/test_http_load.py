"""The http suite's helpers: reading wrk's output, writing its Lua script, and the cookie it sends."""
import http.cookiejar
import re
import threading
import urllib.request

import pytest
from werkzeug.serving import make_server

from bench import http_load
from bench.http_load import WrkOutputError, all_200, lua_script, parse_wrk, to_ms
from tests.committed import make_committed_user
from tests.conftest import TEST_PASSWORD

# Real `wrk -t2 -c4 -d1s --latency -s <lua_script(...)>` output (wrk 4.1.0, Debian 12).
ALL_200 = """Running 1s test @ http://127.0.0.1:18765
  2 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.31ms    2.18ms  12.35ms   69.93%
    Req/Sec   617.70    121.68     0.98k    75.00%
  Latency Distribution
     50%    3.09ms
     75%    4.54ms
     90%    6.41ms
     99%    9.76ms
  1235 requests in 1.01s, 243.62KB read
Requests/sec:   1218.15
Transfer/sec:    240.30KB
bench: status_200=1235 status_other=0 first_other=0
"""

SOME_404 = """Running 1s test @ http://127.0.0.1:18765
  2 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.66ms    2.31ms  16.59ms   76.83%
    Req/Sec   559.10    101.39     0.98k    95.24%
  Latency Distribution
     50%    2.93ms
     75%    4.98ms
     90%    6.76ms
     99%   10.66ms
  1168 requests in 1.10s, 411.95KB read
  Non-2xx or 3xx responses: 584
Requests/sec:   1062.30
Transfer/sec:    374.67KB
bench: status_200=584 status_other=584 first_other=404
"""

# Sub-millisecond and multi-second latencies, socket errors, and redirects that wrk itself does not count.
REDIRECTS = """Running 10s test @ http://127.0.0.1:40001
  2 threads and 32 connections
  Latency Distribution
     50%  812.00us
     75%    1.50ms
     90%  900.00ms
     99%    2.01s
  24567 requests in 10.01s, 12.34MB read
  Socket errors: connect 0, read 3, write 0, timeout 12
Requests/sec:   2454.30
Transfer/sec:      1.23MB
bench: status_200=0 status_other=24567 first_other=302
"""


def test_parse_wrk_reads_throughput_latency_and_statuses():
    figures = parse_wrk(ALL_200)
    assert figures["requests_per_s"] == 1218.15
    assert (figures["requests"], figures["seconds"]) == (1235, 1.01)
    assert (figures["p50_ms"], figures["p75_ms"], figures["p90_ms"], figures["p99_ms"]) == (3.09, 4.54, 6.41, 9.76)
    assert (figures["status_200"], figures["status_other"], figures["first_other"]) == (1235, 0, 0)
    assert figures["non_2xx_3xx"] == 0
    assert figures["socket_errors"] == {"connect": 0, "read": 0, "write": 0, "timeout": 0}


def test_parse_wrk_reads_units_and_socket_errors():
    figures = parse_wrk(REDIRECTS)
    assert figures["p50_ms"] == 0.812
    assert figures["p90_ms"] == 900.0
    assert figures["p99_ms"] == 2010.0
    assert figures["socket_errors"] == {"connect": 0, "read": 3, "write": 0, "timeout": 12}
    assert figures["first_other"] == 302


@pytest.mark.parametrize("missing, message", [
    ("Requests/sec:   1218.15\n", "Requests/sec"),
    ("     99%    9.76ms\n", "99%"),
    ("bench: status_200=1235 status_other=0 first_other=0\n", "status_200"),
    ("  1235 requests in 1.01s, 243.62KB read\n", "requests in"),
])
def test_parse_wrk_names_what_is_missing(missing, message):
    with pytest.raises(WrkOutputError, match=re.escape(message)):
        parse_wrk(ALL_200.replace(missing, ""))


def test_to_ms_converts_every_wrk_unit():
    assert [to_ms(v) for v in ("250.00us", "1.5ms", "2.00s", "1.00m")] == [0.25, 1.5, 2000.0, 60000.0]
    with pytest.raises(WrkOutputError):
        to_ms("12 ms")


def test_all_200_refuses_redirects_and_errors_but_passes_clean_runs():
    assert all_200(parse_wrk(ALL_200))["status_200"] == 1235
    with pytest.raises(RuntimeError, match="the first was a 302"):
        all_200(parse_wrk(REDIRECTS))  # wrk prints no "Non-2xx" line for redirects: only the script sees them
    with pytest.raises(RuntimeError, match="584 of 1168"):
        all_200(parse_wrk(SOME_404))


def test_lua_script_lists_the_paths_and_refuses_one_it_cannot_quote():
    script = lua_script(["/admin/customers/", "/admin/customers/42", "/bench/bare/customers/7?x=1"])
    assert 'local paths = {"/admin/customers/", "/admin/customers/42", "/bench/bare/customers/7?x=1"}' in script
    assert "position = position % #paths + 1" in script
    assert 'string.format("bench: status_200=%d status_other=%d first_other=%d\\n"' in script
    with pytest.raises(ValueError, match="the Lua script can quote"):
        lua_script(['/admin/"; os.exit() --'])


def test_the_login_cookie_is_sent_as_a_browser_sends_it_so_pages_do_not_re_sign_it(isolated_app, monkeypatch):
    """wrk sends the login's cookie and its User-Agent: a page then changes nothing in the session, so it is not
    signed and sent again on every request (which a User-Agent changed after the login would cause)."""
    app = isolated_app(RATELIMIT_ENABLED=False)
    make_committed_user(app, "agent", email=http_load.AGENT)
    monkeypatch.setattr(http_load, "PASSWORD", TEST_PASSWORD)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        cookie = http_load.login_cookie(base)

        def set_cookie(user_agent: str):
            opener = http_load._opener(http.cookiejar.CookieJar())
            request = urllib.request.Request(base + "/admin/records/customers/",
                                             headers={"Cookie": cookie, "User-Agent": user_agent})
            with opener.open(request, timeout=30) as response:
                assert response.status == 200
                return response.headers.get("Set-Cookie")

        assert set_cookie(http_load.USER_AGENT) is None
        assert set_cookie("another browser") is not None  # Flask-Login's protection: the session is not fresh
    finally:
        server.shutdown()
