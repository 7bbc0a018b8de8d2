"""KubeStore crash safety: every write the store acknowledged is there after `kill -9`."""
import sqlite3
import subprocess
import time

from conftest import BINARY


def test_acknowledged_store_writes_survive_kill_9(tmp_path):
    path = tmp_path / "cluster.sqlite"
    # Three crashes of the same file: each run reopens what the last one left and goes on from its revision.
    for attempt in range(3):
        writer = subprocess.Popen([str(BINARY), "debug", "store-writes", "--path", str(path), "--count", "1000000",
                                   "--prefix", f"/crash/{attempt}/"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0 + attempt * 0.37)
        writer.kill()
        output, errors = writer.communicate(timeout=10)
        # The last line may be cut off by the kill: only whole lines were acknowledged.
        acknowledged = [line.split() for line in output.splitlines() if line.endswith(tuple("0123456789"))]
        assert len(acknowledged) > 100, f"the writer acknowledged too little to test anything: {errors}"
        database = sqlite3.connect(path)
        rows = dict(database.execute("SELECT key, revision FROM kv WHERE deleted = 0"))
        stored_revision = database.execute("SELECT value FROM meta WHERE name = 'revision'").fetchone()[0]
        database.close()
        for revision, key in acknowledged:
            assert key in rows, f"{key} was acknowledged at revision {revision} but is not stored"
            assert rows[key] == int(revision)
        assert stored_revision >= max(int(revision) for revision, _ in acknowledged)
