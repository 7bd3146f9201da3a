"""The model registry's part of the record store contract, run against every backend."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timezone

import pytest

from tracking.errors import ConflictError, NotFoundError, ValidationError
from tracking.records import FileRecord, ModelFile, ModelRecord, utcnow
from tracking.stores import open_record_store
from tracking.stores.base import RecordStore

SHA = "ab" * 32


@pytest.fixture
def store(tracking_uri: str) -> Iterator[RecordStore]:
    opened = open_record_store(tracking_uri)
    yield opened
    opened.close()


def _file(path: str = "model.pkl", uri: str | None = None, size: int = 10) -> ModelFile:
    return ModelFile(path, uri or f"models/m/k/{path}", size, SHA)


def _register(store: RecordStore, name: str, **kwargs: object) -> ModelRecord:
    kwargs.setdefault("path", "model.pkl")
    kwargs.setdefault("files", [_file()])
    return store.register_model(name, **kwargs)  # type: ignore[arg-type]


def _run(store: RecordStore, run_id: str = "r1") -> str:
    experiment = store.get_or_create_experiment("e").id
    store.create_run(experiment, run_id)
    return run_id


def test_versions_count_up_from_one_for_each_name(store: RecordStore) -> None:
    assert [_register(store, "a").version for _ in range(3)] == [1, 2, 3]
    assert [_register(store, "b").version for _ in range(2)] == [1, 2]
    assert store.get_model("a").version == 3
    assert store.get_model("b").version == 2


def test_a_version_reads_back_as_registered(store: RecordStore) -> None:
    run_id = _run(store)
    before = utcnow()
    files = [_file("outputs/b.bin", size=2**40), _file("outputs/a.pkl", "s3://x/y/a.pkl", 0)]
    made = store.register_model(
        "diabetes",
        path="outputs",
        files=files,
        run_id=run_id,
        description="ridge, alpha 0.4",
        tags={"area": "diabetes"},
        properties={"rmse": "55.4"},
    )
    got = store.get_model("diabetes", 1)
    assert got == made
    assert (got.name, got.version, got.path, got.run_id) == ("diabetes", 1, "outputs", run_id)
    assert got.description == "ridge, alpha 0.4"
    assert got.files == tuple(sorted(files, key=lambda f: f.path))  # by path
    assert dict(got.tags) == {"area": "diabetes"}
    assert dict(got.properties) == {"rmse": "55.4"}
    assert got.created_at.tzinfo is not None and got.created_at >= before.replace(microsecond=0)
    assert got.created_at.astimezone(timezone.utc) <= utcnow()


def test_a_specific_version_or_the_latest_is_returned(store: RecordStore) -> None:
    for i in range(3):
        _register(store, "m", description=f"v{i + 1}")
    assert store.get_model("m").description == "v3"
    assert store.get_model("m", 2).description == "v2"
    assert store.get_model("m", None).version == 3


def test_unknown_models_and_versions_are_not_found(store: RecordStore) -> None:
    _register(store, "m")
    with pytest.raises(NotFoundError, match="'nope'"):
        store.get_model("nope")
    with pytest.raises(NotFoundError, match="'m'.*version 7"):
        store.get_model("m", 7)
    with pytest.raises(NotFoundError, match="'ghost'"):
        _register(store, "m", run_id="ghost")
    with pytest.raises(NotFoundError, match="'m'.*version 9"):
        store.label_model("m", 9, tags={"a": "b"})
    assert [r.version for r in store.list_models(name="m")] == [1]


@pytest.mark.parametrize(
    ("name", "kwargs", "named"),
    [
        ("-leading-dash", {}, "model name"),
        ("has space", {}, "model name"),
        ("a" * 256, {}, "model name"),
        ("a/b", {}, "model name"),
        ("a..b", {}, "model name"),
        ("m", {"files": []}, "no files"),
        ("m", {"path": "../escape"}, "file name"),
        ("m", {"files": [_file("/etc/passwd")]}, "file name"),
        ("m", {"files": [_file("x"), _file("x")]}, "twice"),
        ("m", {"files": [_file(size=-1)]}, "size"),
        ("m", {"files": [ModelFile("x", "k", 1, "a" * 65)]}, "sha256"),
        ("m", {"files": [ModelFile("x", "k\x00", 1, SHA)]}, "URI"),
        ("m", {"run_id": "not/an/id"}, "run id"),
        ("m", {"description": "nul\x00"}, "description"),
        ("m", {"tags": {"k": "v\x00"}}, "tag"),
        ("m", {"properties": {"k" * 256: "v"}}, "property"),
    ],
)
def test_what_a_database_would_refuse_is_refused_before_any_write(
    store: RecordStore, name: str, kwargs: dict[str, object], named: str
) -> None:
    with pytest.raises(ValidationError, match=named):
        _register(store, name, **kwargs)
    assert store.list_models() == []


def test_listing_filters_by_name_run_tags_and_properties(store: RecordStore) -> None:
    run_a, run_b = _run(store, "ra"), _run(store, "rb")
    _register(store, "m", run_id=run_a, tags={"stage": "dev"}, properties={"algo": "ridge"})
    _register(store, "m", run_id=run_b, tags={"stage": "prod"}, properties={"algo": "lasso"})
    _register(store, "m", tags={"other": "x"})
    _register(store, "n", run_id=run_a, tags={"stage": "prod"})

    def keys(**filters: object) -> list[tuple[str, int]]:
        return [(r.name, r.version) for r in store.list_models(**filters)]  # type: ignore[arg-type]

    assert keys() == [("m", 3), ("m", 2), ("m", 1), ("n", 1)]  # by name, newest first
    assert keys(name="n") == [("n", 1)]
    assert keys(name="absent") == []
    assert keys(run_id=run_a) == [("m", 1), ("n", 1)]
    assert keys(tags={"stage": "prod"}) == [("m", 2), ("n", 1)]
    assert keys(tags={"stage": None}) == [("m", 2), ("m", 1), ("n", 1)]
    assert keys(tags={"stage": "prod", "other": None}) == []
    assert keys(properties={"algo": "ridge"}) == [("m", 1)]
    assert keys(properties={"algo": None}, name="m") == [("m", 2), ("m", 1)]
    assert keys(tags={"stage": "prod"}, properties={"algo": "lasso"}) == [("m", 2)]
    assert keys(run_id=run_b, name="n") == []


def test_latest_keeps_each_names_newest_version_that_matches(store: RecordStore) -> None:
    _register(store, "m", tags={"stage": "prod"})
    _register(store, "m", tags={"stage": "prod"})
    _register(store, "m", tags={"stage": "dev"})
    _register(store, "n")
    latest = store.list_models(latest=True)
    assert [(r.name, r.version) for r in latest] == [("m", 3), ("n", 1)]
    prod = store.list_models(latest=True, tags={"stage": "prod"})
    assert [(r.name, r.version) for r in prod] == [("m", 2)]
    assert [f.path for r in prod for f in r.files] == ["model.pkl"]  # loaded whole
    assert dict(prod[0].tags) == {"stage": "prod"}


def test_listing_loads_each_versions_own_files_and_labels(store: RecordStore) -> None:
    for i in range(5):
        _register(
            store,
            f"m{i % 2}",
            files=[_file(f"f{i}.bin", size=i), _file(f"g{i}.bin", size=i)],
            tags={"i": str(i)},
            properties={"p": str(i)},
        )
    for record in store.list_models():
        i = int(record.tags["i"])
        assert record.properties == {"p": str(i)}
        assert [(f.path, f.size) for f in record.files] == [(f"f{i}.bin", i), (f"g{i}.bin", i)]


def test_tags_are_replaced_and_properties_set_once(store: RecordStore) -> None:
    _register(store, "m", tags={"stage": "dev", "keep": "1"}, properties={"algo": "ridge"})
    _register(store, "m")
    labelled = store.label_model(
        "m", 1, tags={"stage": "prod", "new": "x"}, properties={"algo": "ridge", "rmse": "5"}
    )
    assert dict(labelled.tags) == {"stage": "prod", "keep": "1", "new": "x"}
    assert dict(labelled.properties) == {"algo": "ridge", "rmse": "5"}
    assert store.get_model("m", 1) == labelled
    with pytest.raises(ConflictError, match="'algo'.*ridge.*lasso"):
        store.label_model("m", 1, tags={"stage": "gone"}, properties={"algo": "lasso"})
    assert store.get_model("m", 1) == labelled  # all or nothing: the tag was not changed
    assert dict(store.get_model("m", 2).tags) == {}  # other versions are untouched
    with pytest.raises(ValidationError):
        store.label_model("m", 1, tags={"k": "\x00"})


def test_model_files_are_kept_by_file_uris(store: RecordStore) -> None:
    run_id = _run(store)
    store.add_file(FileRecord(run_id, "outputs/model.pkl", "runs/r1/k/model.pkl", 3, SHA, utcnow()))
    _register(store, "m", files=[_file("model.pkl", "runs/r1/k/model.pkl")], run_id=run_id)
    _register(store, "up", files=[_file("a.bin", "models/up/k1/a.bin")])
    _register(store, "ext", files=[_file("b.bin", "s3://bucket/elsewhere/b.bin")])
    uris = store.file_uris()
    assert {"runs/r1/k/model.pkl", "models/up/k1/a.bin", "s3://bucket/elsewhere/b.bin"} <= uris
    assert store.file_uris("models/") == {"models/up/k1/a.bin"}
    assert store.file_uris("s3://") == {"s3://bucket/elsewhere/b.bin"}


def test_of_threads_registering_one_name_at_once_each_gets_its_own_version(
    store: RecordStore, tracking_uri: str
) -> None:
    count = 4
    stores = [open_record_store(tracking_uri) for _ in range(count)]
    barrier = threading.Barrier(count)
    versions: list[int] = []
    failures: list[BaseException] = []

    def register(own: RecordStore, i: int) -> None:
        try:
            barrier.wait(timeout=60)
            versions.append(_register(own, "race", description=str(i)).version)
        except BaseException as err:  # reported below, with the versions that were taken
            failures.append(err)

    threads = [threading.Thread(target=register, args=(s, i)) for i, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for own in stores:
        own.close()
    assert failures == [], (failures, versions)
    assert sorted(versions) == [1, 2, 3, 4]
    listed = store.list_models(name="race")
    assert [r.version for r in listed] == [4, 3, 2, 1]
    assert sorted(r.description or "" for r in listed) == ["0", "1", "2", "3"]
    assert all(len(r.files) == 1 for r in listed)


def test_of_threads_labelling_one_version_at_once_none_fails(
    store: RecordStore, tracking_uri: str
) -> None:
    _register(store, "m")
    count = 4
    stores = [open_record_store(tracking_uri) for _ in range(count)]
    barrier = threading.Barrier(count)
    failures: list[BaseException] = []

    def label(own: RecordStore, i: int) -> None:
        try:
            barrier.wait(timeout=60)
            own.label_model("m", 1, tags={"stage": f"s{i}"}, properties={"algo": "ridge"})
        except BaseException as err:
            failures.append(err)

    threads = [threading.Thread(target=label, args=(s, i)) for i, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for own in stores:
        own.close()
    assert failures == []
    record = store.get_model("m", 1)
    assert record.tags["stage"] in {f"s{i}" for i in range(count)}
    assert dict(record.properties) == {"algo": "ridge"}
