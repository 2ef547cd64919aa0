"""The export program: ``python -m export`` (SavedModel, LiteRT, ONNX)."""
