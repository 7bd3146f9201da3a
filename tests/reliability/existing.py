"""What the older tests marked for the report inject and expect.

Those tests carry only `@pytest.mark.reliability(case=N)` (their files keep one added line);
the report takes their fault and expectation from here, keyed by file and function.
"""

from __future__ import annotations

DESCRIPTIONS: dict[str, tuple[str, str]] = {
    "tests/test_sweep.py::test_killed_driver_resumes_without_losing_or_duplicating_runs": (
        "the sweep driver (python -m sweep.launch, 20 alphas) SIGKILLed after 4 runs "
        "completed, then rerun with --resume",
        "no run lost, none duplicated (20 alphas, 20 Completed runs), runs finished before the "
        "kill neither retrained nor touched",
    ),
    "tests/test_cluster.py::test_a_worker_node_killed_mid_sweep_ends_with_every_alpha_once": (
        "a worker node of a 3-node local Ray cluster killed mid-sweep (--max-failures 3)",
        "the sweep exits 0 and every alpha has exactly one Completed run",
    ),
    "tests/test_cluster.py::test_job_submission_without_the_token_is_refused": (
        "a job POSTed to the local cluster's dashboard job API without the Ray auth token",
        "refused with 401/403",
    ),
    "tests/test_cluster.py::test_a_driver_without_the_token_stops_before_scheduling": (
        "python -m sweep.launch --address <cluster> without the Ray auth token",
        "exit 2 with one line naming the token, nothing written to the workspace",
    ),
    "tests/test_facade.py::test_altered_files_are_refused_on_download_and_load": (
        "a run's stored model.pkl rewritten in the storage folder after upload",
        "download_file and load_model raise IntegrityError naming the file; no copy appears",
    ),
    "tests/test_portal_api.py::test_a_tampered_file_is_refused_and_none_of_it_is_sent": (
        "a run file changed in storage, then downloaded through the portal",
        "409 naming the recorded hash; none of the changed bytes sent",
    ),
    "tests/test_facade.py::test_unsafe_file_names_are_refused_before_any_io": (
        "../, ..%2f, absolute and C:\\ names given to upload_file, download_file, download_files",
        "ValidationError before any I/O; nothing written",
    ),
    "tests/test_names.py::test_hostile_file_names_are_rejected": (
        "hostile file names given to the name check that every entry point calls first",
        "each rejected with ValidationError",
    ),
    "tests/test_portal_api.py::test_file_names_that_leave_the_run_are_refused_before_any_io": (
        "24 traversal request targets (raw, unnormalised) against the portal's file route",
        "400/404, nothing under the storage folder opened, the secret never read",
    ),
    "tests/test_portal_api.py::test_a_symlink_out_of_the_storage_folder_is_not_followed": (
        "a stored run file replaced by a symlink to a file outside the storage folder",
        "the portal refuses it (outside the storage folder); the target is never opened",
    ),
    "tests/test_concurrency.py::test_processes_logging_at_once_keep_every_value": (
        "8 processes logging 50+ values each into a NEW workspace at once (SQLite, PostgreSQL)",
        "every value kept in order, run numbers 1..8, one schema",
    ),
    "tests/test_portal_api.py::test_with_a_token_every_route_needs_it": (
        "every route of a portal with a token, asked without it or with a wrong one",
        "401 for each, the token never echoed; served with it",
    ),
    "tests/test_portal_api.py::test_a_foreign_host_header_is_refused": (
        "a request whose Host header is a foreign name or another loopback address",
        "400 naming the host",
    ),
    "tests/test_portal_api.py::test_posts_are_not_served_and_cross_origin_ones_are_refused": (
        "POSTs from another origin, with a text/plain or form body, or Origin null",
        "403 (a same-origin JSON POST gets 405: nothing is writable)",
    ),
    "tests/test_portal_api.py::test_create_app_refuses_any_host_without_a_token": (
        "create_app allowing any Host ('*') without a token, or with a blank token",
        "ConfigError naming the token",
    ),
    "tests/test_portal_api.py::test_the_command_refuses_a_public_address_without_a_token": (
        "tracking-portal --host 0.0.0.0 / 192.0.2.10 without a token (in-process)",
        "exit 2 with one line naming TRACKING_PORTAL_TOKEN",
    ),
    "tests/test_sweep_input.py::test_bad_input_exits_2_with_one_line": (
        "bad sweep input: empty, duplicate, negative, NaN grids; unknown estimators and "
        "params; missing or unusable data; unwritable storage; dead address; bad flags",
        "exit 2, one 'sweep:' line naming the value, no traceback, nothing written",
    ),
    "tests/test_sweep_input.py::test_malformed_workspace_config_exits_2": (
        "a config.json whose tracking_uri is a number",
        "exit 2 naming the field",
    ),
    "tests/test_sweep_input.py::test_missing_s3_bucket_exits_2_naming_bucket_and_endpoint": (
        "--storage s3://no-such-bucket on the loopback S3 endpoint",
        "exit 2 naming bucket and endpoint, no traceback",
    ),
}
