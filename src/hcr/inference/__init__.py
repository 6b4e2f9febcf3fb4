"""Recognising letters in images a person gives: numpy, Pillow and ONNX Runtime only, never TensorFlow."""
