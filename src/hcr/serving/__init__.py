"""The HTTP API and the draw-a-letter web page (`hcr serve`): FastAPI around the ONNX predictor, never TensorFlow."""
