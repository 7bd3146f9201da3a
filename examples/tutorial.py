"""Azure Machine Learning's "train your first ML model" tutorial, on this project.

Only the imports differ from the tutorial's notebook, and three things marked "differs"
below: the data (scikit-learn's copy of the diabetes data set instead of
azureml.opendatasets), the experiment's name and where the best model is downloaded. Run it
from any folder:

    python examples/tutorial.py

With no config.json there, runs are recorded in ./workspace (a SQLite file and a folder).
It creates the experiment `diabetes-tutorial` with 10 runs, writes their models to
./outputs/model_alpha_<alpha>.pkl, and downloads the best run's model to
./diabetes-tutorial/model_alpha_0.1.pkl.
"""

import math
import os

import joblib
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split

from tracking import Experiment, Run, Workspace

ws = Workspace.from_config()
# Differs: the tutorial names its experiment "diabetes-experiment", which is also the name
# the quick start's sweep (`python -m sweep.launch`) records its runs under, in the same
# ./workspace. Two sets of the same ten alphas in one experiment would tie for the best run
# and interleave on its charts, so this script keeps its runs apart.
experiment = Experiment(workspace=ws, name="diabetes-tutorial")

x_df, y_df = load_diabetes(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(x_df, y_df, test_size=0.2, random_state=66)

alphas = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
os.makedirs("outputs", exist_ok=True)

for alpha in alphas:
    run = experiment.start_logging()
    run.log("alpha_value", alpha)

    model = Ridge(alpha=alpha)
    model.fit(X=X_train, y=y_train)
    y_pred = model.predict(X=X_test)
    rmse = math.sqrt(mean_squared_error(y_true=y_test, y_pred=y_pred))
    run.log("rmse", rmse)

    model_name = "model_alpha_" + str(alpha) + ".pkl"
    filename = "outputs/" + model_name

    joblib.dump(value=model, filename=filename)
    run.upload_file(name=model_name, path_or_stream=filename)
    run.complete()

print(repr(experiment))

minimum_rmse_runid = None
minimum_rmse = None

for run in experiment.get_runs():
    run_metrics = run.get_metrics()
    run_details = run.get_details()
    # each logged metric becomes a key in this returned dict
    run_rmse = run_metrics["rmse"]
    run_id = run_details["runId"]

    if minimum_rmse is None:
        minimum_rmse = run_rmse
        minimum_rmse_runid = run_id
    else:
        if run_rmse < minimum_rmse:
            minimum_rmse = run_rmse
            minimum_rmse_runid = run_id

print("Best run_id: " + minimum_rmse_runid)
print("Best run_id rmse: " + str(minimum_rmse))

best_run = Run(experiment=experiment, run_id=minimum_rmse_runid)
print(best_run.get_file_names())

# Differs: the tutorial downloads into the current folder, where the sweep's download
# command also writes its best model, under the same name: this keeps both.
os.makedirs(experiment.name, exist_ok=True)
best_path = best_run.download_file(
    name=str(best_run.get_file_names()[0]), output_file_path=experiment.name
)

best_model = joblib.load(best_path)
print("Predictions for the first five test rows:", best_model.predict(X_test[:5]))
print("See every run in the portal:", experiment.portal_url)
