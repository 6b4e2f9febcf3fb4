"""Pipelines: what composes the layers below into one job, and that nothing below imports.

hcr compare --preset quick --data-dir ../shared/data     # compare: train, evaluate, rank, export the best
hcr tune --space cnn --trials 30                        # tune_retrain: search, then retrain the best settings
hcr train --model tuned-cnn                             # tune_retrain: a tuned model's settings found on disk
"""
