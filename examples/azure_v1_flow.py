"""The flow of Azure ML v1's beginner samples, with only the imports changed.

    python examples/azure_v1_flow.py

A parent run with one child run per alpha (each writes its model to ./outputs, which is
uploaded when the child completes, and logs numbers, text, a list and a table), then: the
best child by the primary metric, tagged; its model registered, listed and downloaded with
its hash checked; the code snapshot restored. Records go to the workspace of
./config.json, or ./workspace without one.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

import joblib
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split

# Azure ML v1: from azureml.core import Experiment, Model, Run, Workspace
from tracking import Experiment, Model, Run, Workspace

ws = Workspace.from_config()
print(ws.name, ws.location, ws.resource_group, ws.subscription_id, sep="\t")
experiment = Experiment(workspace=ws, name="v1-samples")

X, y = load_diabetes(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=66)

parent = experiment.start_logging(display_name="alpha sweep", snapshot_directory=".")
parent.add_properties({"primary_metric_name": "rmse", "primary_metric_goal": "minimize"})
parent.log("data", "diabetes")
for child, alpha in zip(
    parent.create_children(tag_key="alpha", tag_values=["0.1", "0.5", "1.0"]),
    [0.1, 0.5, 1.0],
    strict=True,
):
    model = Ridge(alpha=alpha).fit(X_train, y_train)
    rmse = math.sqrt(mean_squared_error(y_test, model.predict(X_test)))
    child.log("alpha", alpha)
    child.log("rmse", rmse)
    child.log("solver", model.solver)
    child.log_list("coefficients", [float(c) for c in model.coef_[:3]])
    child.log_row("rmse by alpha", alpha=alpha, rmse=rmse)
    os.makedirs("outputs", exist_ok=True)
    joblib.dump(model, "outputs/model.pkl")
    child.upload_file("outputs/model.pkl", "outputs/model.pkl")
    child.complete()
parent.complete()

best = parent.get_best_run_by_primary_metric()
assert best is not None
best.tag("best", "yes")
print("best run:", best.id, best.get_metrics()["alpha"], round(best.get_metrics()["rmse"], 3))

registered = best.register_model(model_name="diabetes-ridge", model_path="outputs/model.pkl")
print("registered:", registered.id)
for model in Model.list(ws, name="diabetes-ridge"):
    print("  ", model.name, model.version, model.run_id)
latest = Model(ws, "diabetes-ridge")
with tempfile.TemporaryDirectory() as folder:
    path = latest.download(target_dir=folder, exist_ok=True)
    loaded = joblib.load(path)
    print("downloaded:", Path(path).name, "alpha", loaded.alpha)
    zip_path = parent.restore_snapshot(path=folder)
    print("snapshot:", Path(zip_path).name)

print("runs:", [run.display_name for run in experiment.get_runs()])
print(experiment.to_dataframe()[["number", "parent_run_id", "metrics.rmse", "tags.alpha"]])
context = Run.get_context()  # outside a submitted run: an offline run, as in v1
context.log("offline", 1)
