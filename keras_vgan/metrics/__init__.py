"""Evaluation metrics for generated and reconstructed videos."""

from keras_vgan.metrics.evaluation import Evaluator, evaluate_gan  # noqa: F401
from keras_vgan.metrics.frechet import frechet_distance, frechet_distance_from_statistics  # noqa: F401
from keras_vgan.metrics.fvd import I3DEmbedder, I3DNotFound, frechet_video_distance  # noqa: F401
from keras_vgan.metrics.inception import inception_score  # noqa: F401
from keras_vgan.metrics.kernel import kernel_distance  # noqa: F401
from keras_vgan.metrics.offline import VideoEncoder, offline_metrics  # noqa: F401
from keras_vgan.metrics.reconstruction import (  # noqa: F401
    ReconstructionMetrics,  # noqa: F401
    per_frame_mae,
    per_frame_mse,
    per_frame_psnr,
    per_frame_ssim,
    temporal_consistency_error,
)
