"""Issue 25, section 3: secrets never show. Passwords holding `#`, `?`, a space, `@`, `/`, `%`,
quotes and non-ASCII letters, written in a URL as libpq accepts it (raw where libpq takes them
raw, percent-encoded where it must be) or in a `password=` parameter, sign in to a real server
with scram; then every byte the command writes (stdout, stderr, every file of the output
folder, zip members unpacked: summary.json, report.md, the workbook, the model) and everything
the app shows is searched for the password in every form: raw, percent-encoded, and each run of
letters and digits between its odd characters (so that a password cut in two, half of it taken
for a URL fragment or cut at 160 characters, is found too)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from ..databases import Server, load_postgres, run_sql
from ..tui_helpers import wait_until
from .corpus import base_table
from .harness import every_byte, handled, pg_rows, postgres, refused, run

DATABASE = "vault"


def _token(*parts: str) -> str:
    """A run of letters and digits that nothing else segscope writes could hold by chance."""
    return "Pw" + hashlib.sha256("/".join(parts).encode()).hexdigest()[:10]


def _password(shape: str, odd: str) -> str:
    return odd.join(_token(shape, str(i)) for i in range(3))


SHAPES = {  # the odd characters of each password (README "Databases": a password is masked)
    "hash": "#",
    "question": "?",
    "space": " ",
    "at": "@",
    "slash": "/",
    "percent": "%",
    "quote": "'",
    "double-quote": '"',
    "non-ascii": "ü",
    "colon-amp-eq": ":&=",
}
SHAPES["all"] = "#? @/%'\"ü:&="  # every odd character in one password
SHAPES["all-raw"] = "#?'\"ü:&="  # every odd character libpq takes raw, in one password
PASSWORDS = {shape: _password(shape, odd) for shape, odd in SHAPES.items()}
RAW_OK = set("#?'\"ü:&=")  # what libpq takes raw in a URL's user:password (not @ / % or space)


def role(shape: str) -> str:
    return "pw_" + re.sub(r"\W", "_", shape)


def forms(password: str) -> list[str]:
    """The password as it may be written: raw, percent-encoded, form-encoded, and each run of
    letters and digits in it."""
    runs = [r for r in re.split(r"[^A-Za-z0-9]", password) if len(r) >= 8]
    return [password, quote(password, safe=""), quote(password), quote_plus(password), *runs]


def assert_never_shown(password: str, shown: bytes | str, where: str = "") -> None:
    data = shown.encode(errors="surrogateescape") if isinstance(shown, str) else shown
    for form in forms(password):
        assert form.encode() not in data, f"the password ({form!r}) shows in {where}"


@dataclass(frozen=True)
class Url:
    shape: str
    form: str  # raw, encoded (in user:password) or parameter (?password=)

    def __str__(self) -> str:
        return self.at(DATABASE)

    @property
    def password(self) -> str:
        return PASSWORDS[self.shape]

    def at(self, database: str, port: int | None = None) -> str:
        user, secret = role(self.shape), self.password
        host = f"127.0.0.1:{port or SERVER_PORT[0]}"
        if self.form == "raw":
            return f"postgresql://{user}:{secret}@{host}/{database}"
        if self.form == "encoded":
            return f"postgresql://{user}:{quote(secret, safe='')}@{host}/{database}"
        return f"postgresql://{user}@{host}/{database}?password={quote(secret, safe='')}"


SERVER_PORT = [0]  # the module's server's port, once it runs


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    for server in postgres():
        SERVER_PORT[0] = server.port
        url = server.create(DATABASE)
        load_postgres(url, {"customers": base_table(40)})
        names = [role(shape) for shape in PASSWORDS]
        for shape, secret in PASSWORDS.items():
            literal = secret.replace("'", "''")
            run_sql(
                url,
                f"CREATE ROLE {role(shape)} LOGIN PASSWORD '{literal}'",
                f"GRANT SELECT ON customers TO {role(shape)}",
            )
        hba = server.folder / "data" / "pg_hba.conf"  # these roles sign in with their password
        hba.write_text(f"host all {','.join(names)} 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
        pg_rows(server.url("postgres"), "SELECT pg_reload_conf() AS reloaded")
        yield server


SIGN_INS = [  # each password raw where libpq takes it raw, else encoded; some as a parameter
    *[Url(shape, "raw" if set(odd) <= RAW_OK else "encoded") for shape, odd in SHAPES.items()],
    *[Url(shape, "parameter") for shape in ("hash", "percent", "all")],
]
CASES = [  # swept: every odd character, in each form a URL holds it (one case proves the class)
    Url("hash", "raw"),  # the case: '#' read as a URL fragment
    Url("question", "raw"),  # '?' read as the start of the parameters
    Url("all-raw", "raw"),
    Url("all", "encoded"),
    Url("percent", "parameter"),
    Url("all", "parameter"),
]


def test_every_awkward_password_signs_in_as_written(server: Server) -> None:
    """The URLs are ones libpq accepts: each signs in (so the runs below use real secrets)."""
    import adbc_driver_postgresql.dbapi as pg

    for url in SIGN_INS:
        with pg.connect(str(url)) as con, con.cursor() as cur:
            cur.execute("SELECT current_user AS u")
            assert cur.fetchone()[0] == role(url.shape)  # type: ignore[index]


@pytest.mark.parametrize("url", CASES, ids=lambda u: f"{u.shape}-{u.form}")
def test_a_password_never_shows_from_a_sweep(server: Server, tmp_path: Path, url: Url) -> None:
    out = tmp_path / "out"
    ran = run("sweep", url, "--k", "3", "--json", "--out", out)
    assert ran.code == 0, ran.err[-1500:]
    assert_never_shown(url.password, ran.out, "stdout (summary.json)")
    assert_never_shown(url.password, ran.err, "stderr")
    assert_never_shown(url.password, every_byte(out), "the output folder")
    assert "***" in (out / "summary.json").read_text()  # the input, named with its password masked


FAILURES = [
    *[(Url("hash", "raw"), f) for f in ("no-such-table", "no-such-database", "wrong-password")],
    *[(Url("all", "encoded"), f) for f in ("no-such-table", "no-such-database", "wrong-password")],
    (Url("question", "raw"), "no-such-table"),
    (Url("all", "parameter"), "wrong-password"),
]


@pytest.mark.parametrize(
    ("url", "failure"), FAILURES, ids=[f"{u.shape}-{u.form}-{f}" for u, f in FAILURES]
)
def test_a_password_never_shows_when_a_sweep_fails(
    server: Server, tmp_path: Path, url: Url, failure: str
) -> None:
    target, args = str(url), ["--sheet", "no_such_table"]
    if failure == "no-such-database":
        target, args = url.at("no_such_database"), []
    elif failure == "wrong-password":  # the first run of the password changed, the rest kept
        first = re.split(r"[^A-Za-z0-9]", url.password)[0]
        target, args = target.replace(first, _token("wrong"), 1), []
    out = tmp_path / "out"
    ran = run("sweep", target, "--k", "3", "--out", out, *args)
    refused(ran)
    assert_never_shown(url.password, ran.text, "the refusal")
    assert not out.exists()


def test_a_long_error_message_is_masked_before_it_is_cut(server: Server, tmp_path: Path) -> None:
    """libpq echoes a password it cannot decode; its message runs past 160 characters with the
    password astride the cut."""
    secret = "%zz".join(_token("long", str(i)) for i in range(12))  # 150 characters
    url = f"postgresql://{role('hash')}:{secret}@127.0.0.1:{server.port}/{DATABASE}"
    ran = run("sweep", url, "--k", "3", "--out", tmp_path / "out")
    refused(ran)
    assert_never_shown(secret, ran.text, "a long refusal")


def test_a_malformed_ipv6_url_never_shows_its_password(tmp_path: Path) -> None:
    secret = PASSWORDS["all"]
    url = f"postgresql://{role('all')}:{quote(secret, safe='')}@[::1:5432/{DATABASE}"
    ran = run("sweep", url, "--k", "3", "--out", tmp_path / "out")
    refused(ran, codes=(2, 3))
    assert_never_shown(secret, ran.text, "the refusal of a malformed URL")


@pytest.fixture(scope="module")
def model(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("model") / "out"
    ran = run("sweep", server.url(DATABASE), "--k", "3", "--out", out)
    assert ran.code == 0, ran.err[-1500:]
    return out / "model.segscope"


SCORES = [
    (Url("hash", "raw"), []),
    (Url("all", "encoded"), ["--json"]),
    (Url("all", "parameter"), []),
]


@pytest.mark.parametrize(
    ("url", "args"), SCORES, ids=[f"{u.shape}-{u.form}{''.join(a)}" for u, a in SCORES]
)
def test_a_password_never_shows_when_scoring_a_database(
    server: Server, model: Path, tmp_path: Path, url: Url, args: list[str]
) -> None:
    out = tmp_path / "out"
    ran = run("score", model, url, "--out", out, *args)
    handled(ran)
    assert_never_shown(url.password, ran.text, "score's output")
    if out.exists():
        assert_never_shown(url.password, every_byte(out), "score's output folder")


@pytest.mark.parametrize(
    ("url", "database"),
    [
        (Url("hash", "raw"), DATABASE),
        (Url("all", "encoded"), DATABASE),
        (Url("question", "raw"), "no_such_database"),
    ],
    ids=["hash-raw", "all-encoded", "question-raw-failing"],
)
async def test_the_app_never_shows_a_password(server: Server, url: Url, database: str) -> None:
    from segscope.tui.app import SegscopeApp

    app = SegscopeApp(url.at(database, server.port))
    async with app.run_test(size=(120, 40)) as pilot:
        s = app.session
        await wait_until(pilot, lambda: s.prepared is not None or bool(s.problem))
        shown = [app.export_screenshot(), str(app.title), str(app.sub_title), s.problem]
        await pilot.press("s")  # the steps: where the tables came from
        shown.append(app.export_screenshot())
    assert_never_shown(url.password, "\n".join(shown), "the app")
