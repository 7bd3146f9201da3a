"""The model registry: the SQL behind `SqlRecordStore`'s `register_model`, `get_model`,
`list_models` and `label_model`.

Each function takes a connection inside the store's transaction. A new version is the
name's greatest version plus one: of two processes that register one name at once, the
second's insert meets the first's row and fails as a `ConflictError` (the primary key),
and the store tries again with the next version (`VERSION_ATTEMPTS`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from tracking.errors import ConflictError, NotFoundError, ValidationError
from tracking.names import check_file_name, check_run_id
from tracking.records import ModelFile, ModelRecord, utcnow
from tracking.stores import schema as t
from tracking.stores import values
from tracking.stores.rows import aware

VERSION_ATTEMPTS = 5  # tries of `insert`, each at the then next version
TAG, PROPERTY = "tag", "property"
# Azure's model names: letters, digits, '-', '_' and '.', starting with a letter or digit.
_MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,254}")
_m, _f, _l = t.models, t.model_files, t.model_labels
_INSERTS: dict[str, Callable[[sa.Table], Any]] = {
    "postgresql": postgresql.insert,
    "sqlite": sqlite.insert,
}


@dataclass(frozen=True)
class NewModel:
    """A model version to record, checked (`check_model`); its version is given on insert."""

    name: str
    path: str
    files: tuple[ModelFile, ...]
    run_id: str | None
    description: str | None
    tags: Mapping[str, str]
    properties: Mapping[str, str]


def check_model_name(name: object) -> str:
    """Return `name` if it is a valid model name, else raise `ValidationError`."""
    if not isinstance(name, str) or not _MODEL_NAME.fullmatch(name) or ".." in name:
        raise ValidationError(
            f"model name {name!r} is not accepted: use 1 to 255 letters, digits, '-', '_' "
            "or '.', starting with a letter or digit"
        )
    return name


def check_model(
    name: str,
    path: str,
    files: Sequence[ModelFile],
    run_id: str | None,
    description: str | None,
    tags: Mapping[str, object] | None,
    properties: Mapping[str, object] | None,
) -> None:
    """Check everything a new model version is recorded with, before any write.

    Raises:
        ValidationError: naming the value and what is accepted.
    """
    check_model_name(name)
    check_file_name(path)
    if not files:
        raise ValidationError(f"model {name!r} is not accepted: it has no files")
    seen: set[str] = set()
    for record in files:
        _check_file(record)
        if record.path in seen:
            raise ValidationError(f"model {name!r} names file {record.path!r} twice")
        seen.add(record.path)
    if run_id is not None:
        check_run_id(run_id)
    if description is not None:
        values.check_text(f"description of model {name!r}", description)
    check_labels(tags, properties)


def _check_file(record: ModelFile) -> None:
    check_file_name(record.path)
    values.check_text(f"URI of model file {record.path!r}", record.uri)
    values.check_text(
        f"sha256 of model file {record.path!r}", record.sha256, limit=values.MAX_SHA256
    )
    size = record.size
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= values.MAX_SIZE:
        raise ValidationError(
            f"size {size!r} of model file {record.path!r} is not accepted: use a whole "
            f"number of bytes from 0 to {values.MAX_SIZE}"
        )


def check_labels(
    tags: Mapping[str, object] | None, properties: Mapping[str, object] | None
) -> None:
    """Check the names and values of a model version's tags and properties."""
    values.check_pairs("tag", tags)
    values.check_pairs("property", properties)


def insert(conn: sa.Connection, model: NewModel) -> int:
    """Record `model` as its name's next version; return that version.

    Raises:
        NotFoundError: `model.run_id` names no run.
        ConflictError: (from the database) another process took this version meanwhile.
    """
    if model.run_id is not None:
        found = conn.execute(
            sa.select(t.runs.c.run_id).where(t.runs.c.run_id == model.run_id)
        ).first()
        if found is None:
            raise NotFoundError(f"no run with id {model.run_id!r} in this workspace")
    latest = conn.execute(
        sa.select(sa.func.max(_m.c.version)).where(_m.c.name == model.name)
    ).scalar_one_or_none()
    version = int(latest or 0) + 1
    key = {"name": model.name, "version": version}
    conn.execute(
        sa.insert(_m),
        key
        | {
            "run_id": model.run_id,
            "path": model.path,
            "description": model.description,
            "created_at": utcnow(),
        },
    )
    conn.execute(
        sa.insert(_f),
        [
            key | {"path": f.path, "uri": f.uri, "size": f.size, "sha256": f.sha256}
            for f in model.files
        ],
    )
    _insert_labels(conn, key, TAG, model.tags)
    _insert_labels(conn, key, PROPERTY, model.properties)
    return version


def _insert_labels(
    conn: sa.Connection, key: dict[str, Any], kind: str, pairs: Mapping[str, object]
) -> None:
    if pairs:
        rows = [key | {"kind": kind, "key": k, "value": str(v)} for k, v in pairs.items()]
        conn.execute(sa.insert(_l), rows)


def get(conn: sa.Connection, name: str, version: int | None) -> ModelRecord:
    """Version `version` of model `name`, or its latest (None).

    Raises:
        NotFoundError: no such model, or no such version of it.
    """
    if version is None:
        version = conn.execute(
            sa.select(sa.func.max(_m.c.version)).where(_m.c.name == name)
        ).scalar_one_or_none()
        if version is None:
            raise NotFoundError(f"no model named {name!r} in this workspace")
    keys = sa.select(_m.c.name, _m.c.version).where(_m.c.name == name, _m.c.version == version)
    found = _load(conn, keys.subquery())
    if not found:
        raise NotFoundError(f"model {name!r} has no version {version!r} in this workspace")
    return found[0]


def search(
    conn: sa.Connection,
    *,
    name: str | None,
    run_id: str | None,
    tags: Mapping[str, str | None] | None,
    properties: Mapping[str, str | None] | None,
    latest: bool,
) -> list[ModelRecord]:
    """The versions that match every filter given, by name then newest first; with
    `latest`, only each name's greatest matching version."""
    where: list[sa.ColumnElement[bool]] = []
    if name is not None:
        where.append(_m.c.name == name)
    if run_id is not None:
        where.append(_m.c.run_id == run_id)
    for kind, pairs in ((TAG, tags), (PROPERTY, properties)):
        for key, value in (pairs or {}).items():
            label = sa.select(_l.c.key).where(
                _l.c.name == _m.c.name, _l.c.version == _m.c.version,
                _l.c.kind == kind, _l.c.key == key,
            )  # fmt: skip
            where.append(sa.exists(label if value is None else label.where(_l.c.value == value)))
    if latest:
        keys = sa.select(_m.c.name, sa.func.max(_m.c.version).label("version")).group_by(_m.c.name)
    else:
        keys = sa.select(_m.c.name, _m.c.version)
    return _load(conn, keys.where(*where).subquery())


def _load(conn: sa.Connection, keys: sa.Subquery) -> list[ModelRecord]:
    """The versions whose (name, version) `keys` selects, with their files and labels:
    three reads however many there are."""

    def of(table: sa.Table) -> sa.ColumnElement[bool]:
        return sa.and_(table.c.name == keys.c.name, table.c.version == keys.c.version)

    rows = conn.execute(
        sa.select(_m).join(keys, of(_m)).order_by(_m.c.name, _m.c.version.desc())
    ).all()
    files: dict[tuple[str, int], list[ModelFile]] = {}
    for f in conn.execute(sa.select(_f).join(keys, of(_f)).order_by(_f.c.path)):
        files.setdefault((f.name, f.version), []).append(ModelFile(f.path, f.uri, f.size, f.sha256))
    labels: dict[tuple[str, int, str], dict[str, str]] = {}
    for lb in conn.execute(sa.select(_l).join(keys, of(_l))):
        labels.setdefault((lb.name, lb.version, lb.kind), {})[lb.key] = lb.value
    return [
        ModelRecord(
            name=row.name,
            version=row.version,
            path=row.path,
            created_at=aware(row.created_at),  # type: ignore[arg-type]
            files=tuple(files.get((row.name, row.version), ())),
            run_id=row.run_id,
            description=row.description,
            tags=labels.get((row.name, row.version, TAG), {}),
            properties=labels.get((row.name, row.version, PROPERTY), {}),
        )
        for row in rows
    ]


def label(
    conn: sa.Connection,
    name: str,
    version: int,
    tags: Mapping[str, object],
    properties: Mapping[str, object],
) -> None:
    """Set tags (replacing their values) and add properties (set once) of a version.

    Raises:
        NotFoundError: no such model version.
        ConflictError: a property would change.
    """
    key = {"name": name, "version": version}
    exists = conn.execute(
        sa.select(_m.c.version).where(_m.c.name == name, _m.c.version == version)
    ).first()
    if exists is None:
        raise NotFoundError(f"model {name!r} has no version {version!r} in this workspace")
    mine = sa.and_(_l.c.name == name, _l.c.version == version)
    wanted = {k: str(v) for k, v in properties.items()}
    if wanted:
        # Inserted unless held, then compared: of two processes that add one property at
        # once, the second sees the first's value (PostgreSQL waits for it to commit).
        rows = [key | {"kind": PROPERTY, "key": k, "value": v} for k, v in wanted.items()]
        conn.execute(_INSERTS[conn.dialect.name](_l).on_conflict_do_nothing(), rows)
        held = conn.execute(
            sa.select(_l.c.key, _l.c.value).where(
                mine, _l.c.kind == PROPERTY, _l.c.key.in_(list(wanted))
            )
        )
        for k, value in held:
            if wanted[k] != value:
                raise ConflictError(
                    f"property {k!r} of model {name}:{version} is already {value}; it cannot "
                    f"be changed to {wanted[k]}"
                )
    if tags:  # one upsert: two processes that set one tag at once both succeed, one last
        upsert = _INSERTS[conn.dialect.name](_l)
        conn.execute(
            upsert.on_conflict_do_update(
                index_elements=list(_l.primary_key.columns),
                set_={"value": upsert.excluded.value},
            ),
            [key | {"kind": TAG, "key": k, "value": str(v)} for k, v in tags.items()],
        )
