"""Training (Keras 3 on TensorFlow): the one loop every model goes through, resumable run folders.

hcr train --model baseline-cnn --data-dir ../shared/data
"""
