"""Evaluation metrics for generated and reconstructed videos."""

from keras_vgan.metrics.evaluation import Evaluator, evaluate_gan
from keras_vgan.metrics.frechet import frechet_distance, frechet_distance_from_statistics
from keras_vgan.metrics.fvd import I3DEmbedder, I3DNotFound, frechet_video_distance
from keras_vgan.metrics.inception import inception_score
from keras_vgan.metrics.kernel import kernel_distance
from keras_vgan.metrics.offline import OfflineVideoEncoder, offline_metrics
from keras_vgan.metrics.reconstruction import (
    ReconstructionMetrics,
    per_frame_mae,
    per_frame_mse,
    per_frame_psnr,
    per_frame_ssim,
    temporal_consistency_error,
)
from keras_vgan.metrics.warping import mean_warping_error, warping_error

__all__ = [
    "Evaluator",
    "I3DEmbedder",
    "I3DNotFound",
    "OfflineVideoEncoder",
    "ReconstructionMetrics",
    "evaluate_gan",
    "frechet_distance",
    "frechet_distance_from_statistics",
    "frechet_video_distance",
    "inception_score",
    "kernel_distance",
    "offline_metrics",
    "per_frame_mae",
    "per_frame_mse",
    "per_frame_psnr",
    "per_frame_ssim",
    "temporal_consistency_error",
    "mean_warping_error",
    "warping_error",
]
