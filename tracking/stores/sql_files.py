"""`SqlRecordStore`'s files, registered models, claims and key-values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from tracking.errors import ConflictError, NotFoundError
from tracking.names import check_run_id
from tracking.records import (
    ClaimRecord,
    FileRecord,
    ModelFile,
    ModelRecord,
)
from tracking.stores import claims, registry, values
from tracking.stores import schema as t
from tracking.stores import statements as st
from tracking.stores.rows import aware
from tracking.stores.sql_base import SqlBase


class SqlFiles(SqlBase):
    """The file, model, claim and key-value parts of `SqlRecordStore`."""

    # -- files -------------------------------------------------------------------------
    def add_file(self, record: FileRecord) -> None:
        values.check_file(record)
        with self._tx(write=True) as conn:
            self._running_run(conn, record.run_id)
            self._insert_file(conn, record)

    @staticmethod
    def _insert_file(conn: sa.Connection, record: FileRecord) -> None:
        """Insert the file's row in a transaction that has found its run: the name taken
        is the one key its table can clash on (run id and name)."""
        try:
            conn.execute(st.INSERT["files"], record.__dict__)
        except sa.exc.IntegrityError:
            raise ConflictError(
                f"run {record.run_id!r} already has a file named {record.name!r}"
            ) from None

    def list_files(self, run_id: str) -> list[FileRecord]:
        f = t.files
        with self._tx(write=False) as conn:
            rows = conn.execute(sa.select(f).where(f.c.run_id == run_id).order_by(f.c.name)).all()
        return [self._file_record(row) for row in rows]

    def get_file(self, run_id: str, name: str) -> FileRecord:
        check_run_id(run_id)
        f = t.files
        with self._tx(write=False) as conn:
            row = conn.execute(sa.select(f).where(f.c.run_id == run_id, f.c.name == name)).first()
        if row is None:
            raise NotFoundError(f"run {run_id!r} has no file named {name!r}")
        return self._file_record(row)

    def file_uris(self, prefix: str = "") -> set[str]:
        found: set[str] = set()
        with self._tx(write=False) as conn:
            for uri in (t.files.c.uri, t.model_files.c.uri):  # a model's files are kept too
                query = sa.select(uri).distinct()
                if prefix:
                    # substr, not LIKE: SQLite's LIKE ignores case; '%' and '_' may be in a URI.
                    query = query.where(sa.func.substr(uri, 1, len(prefix)) == prefix)
                found.update(conn.execute(query).scalars())
        return found

    @staticmethod
    def _file_record(row: sa.Row[Any]) -> FileRecord:
        return FileRecord(
            row.run_id,
            row.name,
            row.uri,
            row.size,
            row.sha256,
            aware(row.created_at),  # type: ignore[arg-type]
        )

    # -- models (tracking.stores.registry) ---------------------------------------------
    def register_model(
        self,
        name: str,
        *,
        path: str,
        files: Sequence[ModelFile],
        run_id: str | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        properties: Mapping[str, str] | None = None,
    ) -> ModelRecord:
        registry.check_model(name, path, files, run_id, description, tags, properties)
        model = registry.NewModel(
            name, path, tuple(files), run_id, description, dict(tags or {}), dict(properties or {})
        )
        for attempt in range(registry.VERSION_ATTEMPTS):
            try:
                with self._tx(write=True) as conn:
                    version = registry.insert(conn, model)
                break
            except ConflictError:  # another process took this version first: the next one
                if attempt == registry.VERSION_ATTEMPTS - 1:
                    raise
        return self.get_model(name, version)

    def get_model(self, name: str, version: int | None = None) -> ModelRecord:
        with self._tx(write=False) as conn:
            return registry.get(conn, name, version)

    def list_models(
        self,
        *,
        name: str | None = None,
        run_id: str | None = None,
        tags: Mapping[str, str | None] | None = None,
        properties: Mapping[str, str | None] | None = None,
        latest: bool = False,
    ) -> list[ModelRecord]:
        with self._tx(write=False) as conn:
            return registry.search(
                conn, name=name, run_id=run_id, tags=tags, properties=properties, latest=latest
            )

    def label_model(
        self,
        name: str,
        version: int,
        *,
        tags: Mapping[str, str] | None = None,
        properties: Mapping[str, str] | None = None,
    ) -> ModelRecord:
        registry.check_labels(tags, properties)
        with self._tx(write=True) as conn:
            registry.label(conn, name, version, tags or {}, properties or {})
        return self.get_model(name, version)

    # -- claims and values (tracking.stores.claims) ------------------------------------
    def claim(self, key: str, holder: str, lease_s: float) -> ClaimRecord | None:
        claims.check_claim(key, holder, lease_s)
        with self._tx(write=True) as conn:
            return claims.claim(conn, key, holder, lease_s)

    def renew_claim(self, key: str, holder: str, lease_s: float) -> bool:
        claims.check_claim(key, holder, lease_s)
        with self._tx(write=True) as conn:
            return claims.renew_claim(conn, key, holder, lease_s)

    def release_claim(self, key: str, holder: str) -> None:
        with self._tx(write=True) as conn:
            claims.release_claim(conn, key, holder)

    def get_claim(self, key: str) -> ClaimRecord | None:
        with self._tx(write=False) as conn:
            return claims.get_claim(conn, key)

    def set_value(self, namespace: str, key: str, value: str) -> None:
        claims.check_entry(namespace, key, value)
        with self._tx(write=True) as conn:
            claims.set_value(conn, namespace, key, value)

    def get_value(self, namespace: str, key: str) -> str | None:
        with self._tx(write=False) as conn:
            return claims.get_value(conn, namespace, key)
