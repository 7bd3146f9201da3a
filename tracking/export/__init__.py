"""Copies of a workspace's records in other tracking tools (MLflow), so none are locked in."""
