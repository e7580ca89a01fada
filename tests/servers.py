"""Real servers for the scale-out tests (fixtures imported by conftest.py): PostgreSQL 16 with pgvector (the ``pgserver`` wheel) and a
``chroma run`` server, each started once per test session (per xdist worker) on loopback, and
skipped with the reason when they cannot start. Each test gets its own database / collection."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from carecite.package_data import COMMITTED_WORLD

# platformdirs (via pgserver) warns without a private runtime dir
os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="carecite-run-"))


@dataclass
class PgServer:
    """A throwaway PostgreSQL cluster: ``url(db)`` is an SQLAlchemy URL for a database in it."""

    socket_dir: str
    data_dir: Path
    handle: object

    def url(self, database: str = "postgres", user: str = "postgres", password: str | None = None) -> str:
        auth = f"{user}:{password}" if password else user
        return f"postgresql+psycopg://{auth}@/{database}?host={self.socket_dir}"

    def admin(self) -> sa.Engine:
        return sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")

    def create_database(self) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        engine = self.admin()
        with engine.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
        engine.dispose()
        return name

    def postmaster_pid(self) -> int:
        return int((self.data_dir / "postmaster.pid").read_text().split()[0])

    def kill(self) -> None:
        """SIGKILL the postmaster (a crash, not a shutdown) and wait until it is gone."""
        pid = self.postmaster_pid()
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)

    def restart(self) -> None:
        """Start it again on the same data dir and socket (crash recovery runs first)."""
        with self.handle._lock:  # type: ignore[attr-defined]
            self.handle.ensure_postgres_running()  # type: ignore[attr-defined]


def start_pg() -> PgServer:
    """Start pgserver on a fresh data dir, or skip with the reason.

    The data dir is NOT under pytest's tmp dirs: as root, pgserver runs PostgreSQL as its own
    ``pgserver`` user, which must traverse every parent folder, and each pytest session (other
    checkouts on this machine included) resets /tmp/pytest-of-<user> to 0700."""
    try:
        import pgserver
    except ImportError as exc:  # pragma: no cover - a dev dependency
        pytest.skip(f"pgserver is not installed ({exc}); `make install` adds it")
    root = Path(tempfile.mkdtemp(prefix="carecite-pg-"))
    try:
        handle = pgserver.get_server(str(root), cleanup_mode="stop")
        handle.psql("CREATE EXTENSION IF NOT EXISTS vector;")
    except Exception as exc:
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"PostgreSQL (pgserver) could not start here: {type(exc).__name__}: {exc}")
    socket_dir = str(handle.get_uri()).split("host=")[-1]
    return PgServer(socket_dir=socket_dir, data_dir=root, handle=handle)


def stop_pg(server: PgServer) -> None:
    with contextlib.suppress(Exception):  # already stopped (a fault test killed it)
        server.handle.cleanup()  # type: ignore[attr-defined]
    shutil.rmtree(server.data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    server = start_pg()
    yield server
    stop_pg(server)


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """A fresh, empty database on the session's server (owner: the superuser)."""
    return pg_server.url(pg_server.create_database())


# --------------------------------------------------------------------------- Chroma server
@dataclass
class ChromaServer:
    host: str
    port: int
    process: subprocess.Popen[bytes]
    path: Path

    def alive(self) -> bool:
        try:
            return httpx.get(f"http://{self.host}:{self.port}/api/v2/heartbeat", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False


def start_chroma(path: Path, log: Path, port: int | None = None) -> ChromaServer:
    """``chroma run`` on a free loopback port, waited for through its heartbeat, or skip."""
    from carecite.api.server import free_port

    exe = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    if exe is None:
        pytest.skip("the `chroma` command (chromadb package) is not installed")
    port = port or free_port()
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [exe, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = ChromaServer("127.0.0.1", port, proc, path)
    deadline = time.monotonic() + 60
    while not server.alive():
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_chroma(server)
            tail = log.read_text(errors="replace")[-400:] if log.exists() else ""
            pytest.skip(f"a Chroma server (`chroma run`) could not start here: {tail.strip()}")
        time.sleep(0.2)
    return server


def stop_chroma(server: ChromaServer, sig: int = signal.SIGTERM) -> None:
    if server.process.poll() is None:
        server.process.send_signal(sig)
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=20)


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    root = tmp_path_factory.mktemp("chroma-server")
    server = start_chroma(root / "db", root / "chroma.log")
    yield server
    stop_chroma(server)


@pytest.fixture
def chroma(tmp_path: Path) -> Iterator[ChromaServer]:
    """A private Chroma server, for a test that kills it (the store-fault tests)."""
    server = start_chroma(tmp_path / "chroma-db", tmp_path / "chroma.log")
    yield server
    stop_chroma(server)


@pytest.fixture
def pg() -> Iterator[PgServer]:
    """A private PostgreSQL, for a test that kills it (the store-fault tests)."""
    server = start_pg()
    yield server
    stop_pg(server)


@pytest.fixture(scope="session")
def fresh_chroma(chroma_server: ChromaServer) -> Callable[[], None]:
    """Drops carecite's collection on the shared server, so a test starts from an empty index."""

    def drop() -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        from carecite.retrieval.dense import COLLECTION

        client = chromadb.HttpClient(
            host=chroma_server.host,
            port=chroma_server.port,
            settings=ChromaSettings(anonymized_telemetry=False),
        )
        with contextlib.suppress(Exception):  # absent: already empty
            client.delete_collection(COLLECTION)

    return drop


# --------------------------------------------------------------------------- a small world
SMALL_WORLD_BUNDLES = ("directory.json", "patient-00001.json")


def ingest_small_world(stores: object, *, progress: bool = False) -> object:
    """One synthetic patient (with notes), the directory, the users and the as-of date: enough for
    real asks against any store setup in seconds rather than the whole world's minutes."""
    import json

    from carecite.access.users import import_users
    from carecite.ingest.fhir import ingest_fhir_paths
    from carecite.records import session_scope
    from carecite.records.clock import AS_OF_KEY
    from carecite.records.tables import Meta

    data = COMMITTED_WORLD
    report = ingest_fhir_paths(stores, [data / "fhir" / n for n in SMALL_WORLD_BUNDLES], progress=progress)  # type: ignore[arg-type]
    import_users(stores.engine, data / "users.json")  # type: ignore[attr-defined]
    with session_scope(stores.engine) as session:  # type: ignore[attr-defined]
        session.merge(
            Meta(key=AS_OF_KEY, value=str(json.loads((data / "manifest.json").read_text())["as_of"]))
        )
    return report


def small_world_gold(dest: Path) -> Path:
    """The gold questions about the small world's patient, as a gold file for the load bench."""
    import json

    bundle = json.loads((COMMITTED_WORLD / "fhir" / SMALL_WORLD_BUNDLES[1]).read_text())
    ids = {e["resource"]["id"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"}
    lines = [
        line
        for line in (COMMITTED_WORLD / "gold.jsonl").read_text().splitlines()
        if line.strip() and json.loads(line).get("patient_id") in ids
    ]
    dest.write_text("\n".join(lines) + "\n")
    return dest
