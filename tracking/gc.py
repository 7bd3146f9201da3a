"""Workspace garbage: what killed processes left behind, found and (on request) removed.

Three kinds, each judged conservatively:
- leftovers: a local store's temporary `.part` files and unfinished S3 multipart uploads,
  anywhere under the storage root, last written before the grace period. They are never
  objects anyone reads, so removing them loses nothing.
- unreferenced files: objects under `runs/` (where `Run.upload_file` stores) that no file
  record names, last written before the grace period (an upload stores its bytes first and
  records them after). Nothing outside `runs/` is ever listed or deleted: Ray Tune's
  experiment folders and checkpoints live there.
- lost runs: runs still `Running` (or `Queued`) whose heartbeat stopped more than the workspace's
  `heartbeat_timeout_s` ago; failed as `Workspace.fail_lost_runs` fails them. Opening a
  workspace already fails the ones lost by then (`Workspace.lost_runs` names them), so these
  are the runs lost since, or as seen from a later `now`.

`find_garbage` only reads. `collect` removes what it was given, checking each item again
just before: a file recorded meanwhile, or written again, or a part written again, is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from tracking.artifacts.base import Leftover, ObjectInfo
from tracking.errors import TrackingError, ValidationError
from tracking.heartbeat import lost_error
from tracking.records import LostRun, utcnow

if TYPE_CHECKING:
    from tracking.artifacts.base import ArtifactStore
    from tracking.workspace import Workspace

RUNS_PREFIX = "runs/"  # where Run.upload_file stores: runs/<run_id>/<folders>/<key>-<name>
DEFAULT_GRACE = timedelta(days=1)
RECHECK_EVERY = 500  # deletions between two reads of the file records


@dataclass(frozen=True)
class Garbage:
    """What `find_garbage` found, as of `now`.

    Attributes:
        now: the moment ages are measured from (UTC).
        cutoff: files and leftovers last written before it count (`now` - grace period).
        silent_since: running runs whose last heartbeat is before it are lost.
        leftovers: temporary parts and unfinished multipart uploads.
        unreferenced: objects under `runs/` that no file record names.
        lost_runs: running runs whose heartbeat stopped.
    """

    now: datetime
    cutoff: datetime
    silent_since: datetime
    leftovers: tuple[Leftover, ...] = ()
    unreferenced: tuple[ObjectInfo, ...] = ()
    lost_runs: tuple[LostRun, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.leftovers or self.unreferenced or self.lost_runs)

    @property
    def size(self) -> int:
        """The bytes that removing the leftovers and unreferenced files would free."""
        return sum(lo.size for lo in self.leftovers) + sum(o.size for o in self.unreferenced)

    def age(self, item: Leftover | ObjectInfo | LostRun) -> timedelta:
        """How long before `now` the item was last written (a run: last beat)."""
        if isinstance(item, Leftover):
            return self.now - item.started
        if isinstance(item, ObjectInfo):
            return self.now - item.modified
        return self.now - item.heartbeat_at


@dataclass(frozen=True)
class Kept:
    """An item that `collect` left in place, and why."""

    what: str  # a URI, or a run id
    reason: str


@dataclass(frozen=True)
class GcResult:
    """What `collect` did.

    Attributes:
        removed: the leftovers deleted or aborted.
        deleted: the unreferenced files deleted.
        failed_runs: the ids of the lost runs this call failed.
        kept: the items left in place: gone or written again since they were found,
            recorded meanwhile, already failed by another process, or refused by storage.
    """

    removed: tuple[Leftover, ...] = ()
    deleted: tuple[ObjectInfo, ...] = ()
    failed_runs: tuple[str, ...] = ()
    kept: tuple[Kept, ...] = ()

    @property
    def freed(self) -> int:
        """The bytes freed."""
        return sum(lo.size for lo in self.removed) + sum(o.size for o in self.deleted)


def find_garbage(
    workspace: Workspace, *, older_than: timedelta = DEFAULT_GRACE, now: datetime | None = None
) -> Garbage:
    """List what killed processes left in the workspace, changing nothing.

    Args:
        workspace: the workspace to look through (its storage and its records).
        older_than: the grace period: newer leftovers and files may belong to a live upload.
        now: the moment to measure ages from (default: now), timezone-aware.

    Returns:
        The leftovers, unreferenced files and lost runs found.

    Raises:
        ValidationError: `older_than` is negative, or `now` has no timezone.
        StorageError: the storage or the records cannot be read.
    """
    if older_than < timedelta(0):
        raise ValidationError(f"older_than must not be negative, not {older_than}")
    if now is not None and now.utcoffset() is None:
        raise ValidationError(f"now must be timezone-aware, not {now!r}")
    now = now or utcnow()
    cutoff = now - older_than
    silent_since = now - timedelta(seconds=workspace.config.heartbeat_timeout_s)
    store = workspace.artifacts
    leftovers = tuple(store.leftovers(cutoff))
    # Listed before the records are read: a file recorded while we list is then seen as
    # recorded, never as garbage.
    candidates = [o for o in store.list_objects(RUNS_PREFIX) if o.modified < cutoff]
    recorded = _recorded_keys(store, workspace.records.file_uris()) if candidates else set()
    return Garbage(
        now=now,
        cutoff=cutoff,
        silent_since=silent_since,
        leftovers=leftovers,
        unreferenced=tuple(o for o in candidates if o.key not in recorded),
        lost_runs=tuple(workspace.records.find_lost_runs(silent_since)),
    )


def collect(workspace: Workspace, garbage: Garbage) -> GcResult:
    """Remove the leftovers, delete the unreferenced files and fail the lost runs found.

    Each item is checked again first, and kept (not an error) if it has gone, been written
    again, or (a file) been recorded since `find_garbage` saw it. An item the storage
    refuses (say, a permission) is kept too, with the error as the reason; the rest go on.

    Args:
        workspace: the workspace `garbage` was found in.
        garbage: what `find_garbage` returned.

    Returns:
        What was removed, deleted, failed and kept.

    Raises:
        StorageError: the records cannot be read or written.
    """
    store = workspace.artifacts
    kept: list[Kept] = []
    removed = [lo for lo in garbage.leftovers if _try(kept, lo.uri, store.remove, lo)]
    failed = _fail_lost(workspace, garbage, kept)
    deleted: list[ObjectInfo] = []
    for batch in _batches(garbage.unreferenced, RECHECK_EVERY):
        # Read again right before deleting: an upload records its file after storing it.
        recorded = _recorded_keys(store, workspace.records.file_uris())
        for obj in batch:
            if obj.key in recorded:
                kept.append(Kept(obj.uri, "a file record names it now"))
            elif _try(kept, obj.uri, store.delete, obj.uri, not_modified_after=obj.modified):
                deleted.append(obj)
    return GcResult(tuple(removed), tuple(deleted), tuple(failed), tuple(kept))


def _fail_lost(workspace: Workspace, garbage: Garbage, kept: list[Kept]) -> list[str]:
    """Fail the lost runs as opening a workspace does; note the ones someone else did."""
    if not garbage.lost_runs:
        return []
    failed = workspace.records.fail_lost_runs(
        garbage.silent_since,
        error=lost_error(workspace.config.heartbeat_timeout_s),
        run_ids=[run.run_id for run in garbage.lost_runs],
    )
    done = set(failed)
    kept.extend(
        Kept(run.run_id, "no longer running, or beating again")
        for run in garbage.lost_runs
        if run.run_id not in done
    )
    return failed


def _try(kept: list[Kept], what: str, action: Callable[..., bool], *args: Any, **kw: Any) -> bool:
    """Call `action`; if it did nothing (gone, changed) or storage refused, note `what` kept."""
    try:
        done = action(*args, **kw)
    except TrackingError as err:
        kept.append(Kept(what, str(err)))
        return False
    if not done:
        kept.append(Kept(what, "gone, or written again since it was found"))
    return done


def _recorded_keys(store: ArtifactStore, uris: Iterable[str]) -> set[str]:
    """The keys under the store's root that file records name.

    A URI outside the root still protects every key it ends with from `runs/` on: the same
    folder may be mounted at another path on the machine that recorded it.
    """
    keys: set[str] = set()
    for uri in uris:
        try:
            keys.add(store.key_of(uri))
        except ValidationError:
            keys.update(_runs_tails(uri))
    return keys


def _runs_tails(uri: str) -> set[str]:
    path = unquote(uri) if uri.startswith("file:") else uri
    parts = path.split("/")
    return {"/".join(parts[i:]) for i, part in enumerate(parts) if part + "/" == RUNS_PREFIX}


def _batches(items: Sequence[ObjectInfo], size: int) -> Iterable[Sequence[ObjectInfo]]:
    return (items[i : i + size] for i in range(0, len(items), size))
