"""The app starts, builds its schema, and answers /healthz; the benchmark loads."""
import importlib


def test_healthz_reports_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_the_bench_loads():
    """make bench imports every bench module at start: the tables it reads must still fit the code."""
    importlib.import_module("bench.run")
