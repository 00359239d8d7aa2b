"""``compound worker``'s environment for Dramatiq's Prometheus middleware."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.messaging import metrics_directory, worker_environment
from shared.settings import Settings


def test_off_by_default():
    assert Settings.from_env({}).worker_metrics_port == 0
    assert worker_environment(Settings(), {}, pid=1) == {}


def test_a_port_gives_the_middleware_its_variables_and_a_clean_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)  # re-read TMPDIR
    stale = metrics_directory(4242) / "counter_999.db"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"an earlier run's counts")

    env = worker_environment(Settings(worker_metrics_port=9191), {"HOST": "0.0.0.0"}, pid=4242)

    assert env["dramatiq_prom_port"] == "9191"
    assert env["dramatiq_prom_host"] == "0.0.0.0"
    assert env["dramatiq_prom_db"] == env["PROMETHEUS_MULTIPROC_DIR"]
    assert Path(env["dramatiq_prom_db"]) == tmp_path / "compound-worker-metrics-4242"
    assert list(Path(env["dramatiq_prom_db"]).iterdir()) == []  # the stale file is gone
    loopback = worker_environment(Settings(worker_metrics_port=9191), {}, pid=4243)
    assert loopback["dramatiq_prom_host"] == "127.0.0.1"
