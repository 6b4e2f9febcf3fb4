"""Evaluation: scores and figures from predicted probabilities, run folders in, reports out.

hcr evaluate runs/20261124-032627-regularized-cnn

hcr compare composes this with training and tuning (hcr.pipelines.compare); nothing here trains.

Nothing here imports Keras at module level: scores and figures work on arrays, and the one step that needs a model's
probabilities borrows it from hcr.training (training.predict) inside the function that evaluates a run.
"""
