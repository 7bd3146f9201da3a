"""Hyperparameter sweeps on Ray Tune whose trials become tracked runs."""
