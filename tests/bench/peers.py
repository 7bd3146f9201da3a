"""The MLflow contenders: a loop logging through MLflow, Ray Tune with MLflowLoggerCallback,
and MLflow's SQLite record store (API writes, a bulk fill in its own tables, its searches).

Every MLflow database is a copy of one made at the start (`MlflowDatabases`), so MLflow's
schema migrations (seconds) are paid once and never inside a timed part.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import joblib

from sweep.spec import model_file_name
from sweep.trainable import fit_cell
from tests.bench.common import EXPERIMENT, alphas, run_values
from tests.bench.store_bench import run_id
from tests.bench.sweep_bench import ESTIMATOR, SEED, diabetes, tuner

# The tables MLflow's API writes for a run logged as ours are, and how a copy differs.
FILLED_TABLES = ("runs", "params", "metrics", "latest_metrics", "tags")
FILL_BATCH = 10_000


def quiet_mlflow() -> None:
    """MLflow and alembic log every migration step and run at INFO: keep stderr readable."""
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)


class MlflowDatabases:
    """Fresh MLflow SQLite databases, each a copy of one migrated once."""

    def __init__(self, folder: Path) -> None:
        from mlflow import MlflowClient

        quiet_mlflow()
        self.template = folder / "mlflow-template.db"
        MlflowClient(tracking_uri=self.uri(self.template)).search_experiments()

    @staticmethod
    def uri(path: Path) -> str:
        return f"sqlite:///{path.absolute()}"

    def new(self, folder: Path) -> tuple[str, str]:
        """A database in `folder` with experiment `bench` (artifacts in folder/mlartifacts);
        returns its tracking URI and the experiment id.
        """
        from mlflow import MlflowClient

        path = folder / "mlflow.db"
        shutil.copyfile(self.template, path)
        uri = self.uri(path)
        artifacts = (folder / "mlartifacts").absolute().as_uri()
        eid = MlflowClient(tracking_uri=uri).create_experiment(
            EXPERIMENT, artifact_location=artifacts
        )
        return uri, eid


# --- sweep contenders --------------------------------------------------------------------


def mlflow_loop(databases: MlflowDatabases) -> Callable[[int, Path], Callable[[], None]]:
    """The tutorial's loop logging through MLflow's fluent API (the peer of tracking_loop)."""

    def prepare(n: int, folder: Path) -> Callable[[], None]:
        import mlflow

        uri, eid = databases.new(folder)
        mlflow.set_tracking_uri(uri)
        outputs = folder / "outputs"
        outputs.mkdir()

        def call() -> None:
            data = diabetes()
            for alpha in alphas(n):
                mlflow.start_run(experiment_id=eid)
                mlflow.log_param("alpha", alpha)
                model, metrics = fit_cell({"alpha": alpha}, data, ESTIMATOR, SEED)
                for name in ("rmse", "mae", "r2"):
                    mlflow.log_metric(name, metrics[name])
                path = outputs / model_file_name({"alpha": alpha})
                joblib.dump(value=model, filename=path)
                mlflow.log_artifact(str(path))
                mlflow.end_run()

        return call

    return prepare


def tune_mlflow(databases: MlflowDatabases) -> Callable[[int, Path], Callable[[], None]]:
    """Bare Tune's trainable and settings, plus Ray's MLflowLoggerCallback."""

    def prepare(n: int, folder: Path) -> Callable[[], None]:
        from ray.air.integrations.mlflow import MLflowLoggerCallback

        uri, _ = databases.new(folder)

        def call() -> None:
            callback = MLflowLoggerCallback(tracking_uri=uri, experiment_name=EXPERIMENT)
            results = tuner(n, folder, callbacks=[callback]).fit()
            if results.num_errors or len(results) != n:
                raise RuntimeError(f"Tune + MLflow of {n} alphas: {results.num_errors} failed")

        return call

    return prepare


# --- the record store ----------------------------------------------------------------------


class MlflowStore:
    """MLflow's SQLite store holding runs numbered as ours, with the same values."""

    def __init__(self, databases: MlflowDatabases, folder: Path) -> None:
        from mlflow import MlflowClient

        self.path = folder / "mlflow.db"
        uri, self.experiment_id = databases.new(folder)
        self.client = MlflowClient(tracking_uri=uri)
        self.template_run: str | None = None
        self._watching = False
        self._connection: Any = None

    def write_runs(self, first: int, last: int) -> float:
        """Runs `first` to `last - 1` through the API, as Tune's MLflow callback or a loop
        would: create_run, one log_batch of params and metrics, set_terminated. Seconds.
        """
        from mlflow.entities import Metric, Param

        started = time.perf_counter()
        for i in range(first, last):
            params, metrics = run_values(i)
            run = self.client.create_run(self.experiment_id, run_name=run_id(i))
            now = int(time.time() * 1000)
            self.client.log_batch(
                run.info.run_id,
                metrics=[Metric(k, v, now, 0) for k, v in metrics.items()],
                params=[Param(k, str(v)) for k, v in params.items()],
            )
            self.client.set_terminated(run.info.run_id)
            self.template_run = self.template_run or run.info.run_id
        return time.perf_counter() - started

    def fill(self, first: int, last: int) -> float:
        """Runs `first` to `last - 1` by bulk SQL into MLflow's own tables, each row a copy
        of what the API wrote for the first run written by `write_runs`, with this run's id,
        name, times and values. Seconds.
        """
        if self.template_run is None:
            raise RuntimeError("write a run through the API first: its rows are the template")
        started = time.perf_counter()
        with closing(sqlite3.connect(self.path)) as db, db:  # closed, after one commit
            templates = self._templates(db)
            for start in range(first, last, FILL_BATCH):
                ids = {i: uuid.uuid4().hex for i in range(start, min(last, start + FILL_BATCH))}
                for table, (columns, rows) in templates.items():
                    marks = ", ".join("?" * len(columns))
                    db.executemany(
                        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                        self._copies(table, columns, rows, ids),
                    )
        return time.perf_counter() - started

    def _templates(self, db: sqlite3.Connection) -> dict[str, tuple[list[str], list[tuple]]]:
        """The template run's rows in every table that has any: all must be ones we fill."""
        templates = {}
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in names:
            columns = [c[1] for c in db.execute(f"PRAGMA table_info({table})")]
            if "run_uuid" not in columns:
                continue
            rows = db.execute(
                f"SELECT * FROM {table} WHERE run_uuid = ?", (self.template_run,)
            ).fetchall()
            if rows and table not in FILLED_TABLES:
                raise RuntimeError(f"MLflow wrote table {table} for a run: the fill must too")
            if rows:
                templates[table] = (columns, rows)
        return templates

    def _copies(
        self, table: str, columns: list[str], rows: list[tuple], ids: dict[int, str]
    ) -> Iterator[tuple]:
        """The template's rows of `table` for each run number in `ids`, given its new id."""
        template = self.template_run or ""
        for i, new_id in ids.items():
            params, metrics = run_values(i)
            values: dict[str, Any] = {**params, **metrics}
            name, now = run_id(i), int(time.time() * 1000)
            for row in rows:
                record = {
                    c: v.replace(template, new_id) if isinstance(v, str) else v
                    for c, v in zip(columns, row, strict=True)
                }
                if table == "runs":
                    record.update(name=name, start_time=now, end_time=now)
                elif table == "params":
                    record["value"] = str(values[record["key"]])
                elif table in ("metrics", "latest_metrics"):
                    record.update(value=values[record["key"]], timestamp=now)
                elif table == "tags" and record["key"] == "mlflow.runName":
                    record["value"] = name
                yield tuple(record[c] for c in columns)

    def query_calls(self) -> dict[str, Callable[[], list[Any]]]:
        """MLflow's reads for the best run and the first page of 50 runs by rmse."""
        search = self.client.search_runs
        eid = [self.experiment_id]
        return {
            "mlflow_best_run_ms": lambda: search(eid, order_by=["metrics.rmse ASC"], max_results=1),
            "mlflow_first_page_ms": lambda: search(
                eid, order_by=["metrics.rmse ASC"], max_results=50
            ),
        }

    def capped_ms(self, call: Callable[[], object], cap_s: float) -> float | None:
        """Milliseconds of one call, or None when it ran past `cap_s` and was interrupted.

        MLflow's search plans its join on SQLite as a scan per run (quadratic in runs), so
        at 100,000 runs one call takes far longer than a benchmark can wait; an interrupt
        on the SQLite connection stops it without leaving it running in a thread.
        """
        self._watch_connections()
        timer = threading.Timer(cap_s, self._interrupt)
        # MLflow logs a database error with its traceback before raising it.
        db_log = logging.getLogger("mlflow.store.db.utils")
        level = db_log.level
        db_log.setLevel(logging.CRITICAL)
        timer.start()
        started = time.perf_counter()
        try:
            call()
        except Exception as err:  # MLflow wraps SQLAlchemy's OperationalError its own way
            if "interrupted" not in str(err).lower():
                raise
            return None
        finally:
            timer.cancel()
            db_log.setLevel(level)
        return 1000 * (time.perf_counter() - started)

    def _watch_connections(self) -> None:
        """Keep the SQLite connection of each statement MLflow runs, to interrupt it."""
        if self._watching:
            return
        from sqlalchemy import event

        def keep(conn: Any, cursor: Any, *_: Any) -> None:
            self._connection = cursor.connection

        event.listen(self.client._tracking_client.store.engine, "before_cursor_execute", keep)
        self._watching = True

    def _interrupt(self) -> None:
        if self._connection is not None:
            self._connection.interrupt()

    def count(self) -> int:
        with closing(sqlite3.connect(self.path)) as db:
            return int(db.execute("SELECT COUNT(*) FROM runs").fetchone()[0])
