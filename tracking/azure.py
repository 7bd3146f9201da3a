"""Azure ML v1's keywords that mean nothing off Azure, and its calls that cannot work here.

Every public method takes the arguments it uses by name. Keywords that v1 code passes but
that have no meaning here are listed below, once, with what passing them does; any other
unknown keyword is a `TypeError` naming it, as Python's own would be.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# method -> {keyword: what passing it does here}
ACCEPTED: dict[str, dict[str, str]] = {
    "Workspace.from_config": {
        "auth": "ignored: there is no Azure sign-in; access is the database's and storage's",
        "_logger": "ignored: messages go to the 'tracking' logger",
    },
    "Workspace.get": {
        "auth": "ignored: there is no Azure sign-in",
        "subscription_id": "must match the config's, if it names one",
        "resource_group": "must match the config's, if it names one",
    },
    "Experiment": {
        "_skip_name_validation": "ignored: names are always checked",
        "_create_in_cloud": "ignored: the experiment is created in the workspace's database",
        "_id": "ignored: experiments are found by name",
    },
    "Experiment.submit": {},
    "Experiment.start_logging": {
        "name": "ignored: v1's old alias of the experiment's name",
    },
    "Run": {
        "_run_dto": "ignored: runs are read from the workspace's database",
    },
    "Run.complete": {
        "_set_status": "False uploads ./outputs but leaves the run running, as in v1",
    },
    "Run.fail": {
        "_set_status": "False records nothing, as in v1",
    },
    "Run.log": {
        "description": "not stored: metrics have names only",
    },
    "Run.get_children": {
        "_rehydrate_runs": "ignored: children are always full runs",
    },
    "Run.register_model": {
        "model_framework": "recorded as the model's property 'model_framework'",
        "model_framework_version": "recorded as the property 'model_framework_version'",
        "resource_configuration": "ignored: it sizes a deployment; nothing is deployed here",
        "datasets": "refused unless empty: there are no Azure datasets here",
        "sample_input_dataset": "refused unless None: there are no Azure datasets here",
        "sample_output_dataset": "refused unless None: there are no Azure datasets here",
    },
    "Model": {
        "model_framework": "a filter: only versions whose property 'model_framework' is it",
        "expand": "ignored: tags, properties and files are always read",
    },
    "Model.register": {
        "model_framework": "recorded as the model's property 'model_framework'",
        "model_framework_version": "recorded as the property 'model_framework_version'",
        "resource_configuration": "ignored: it sizes a deployment; nothing is deployed here",
        "datasets": "refused unless empty: there are no Azure datasets here",
        "sample_input_dataset": "refused unless None: there are no Azure datasets here",
        "sample_output_dataset": "refused unless None: there are no Azure datasets here",
    },
    "Model.list": {
        "model_framework": "a filter: only versions whose property 'model_framework' is it",
        "dataset_id": "refused unless None: there are no Azure datasets here",
        "expand": "ignored: tags, properties and files are always read",
        "page_count": "ignored: every match is returned",
    },
}

# Calls with no meaning off Azure: what to use here instead.
REFUSED: dict[str, str] = {
    "Workspace.create": (
        "Workspace.create provisions Azure resources; here write a config.json with "
        "tracking_uri and storage_uri (see README 'Workspaces') and use Workspace.from_config()"
    ),
    "Workspace.delete": "a workspace here is its database and storage: remove those yourself",
    "Workspace.write_config": "write config.json yourself: see README 'Workspaces'",
    "Model.deploy": (
        "Model.deploy creates an Azure web service; here serve the model yourself: "
        "Model(ws, name).download() gives its files, verified"
    ),
}


def take(method: str, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The Azure-only keywords in `kwargs` that `method` accepts.

    Raises:
        TypeError: a keyword neither `method` nor `ACCEPTED[method]` knows, named.
    """
    known = ACCEPTED.get(method, {})
    unknown = sorted(set(kwargs) - set(known))
    if unknown:
        raise TypeError(f"{method}() got an unexpected keyword argument {unknown[0]!r}")
    return dict(kwargs)


def refuse(call: str) -> None:
    """Raise the one-line error for a call that cannot work off Azure."""
    from tracking.errors import UnsupportedError

    raise UnsupportedError(REFUSED[call])
