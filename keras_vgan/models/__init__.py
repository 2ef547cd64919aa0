"""Generator and discriminator networks, one file per architecture family.

The families are leaves: a model file imports ``keras_vgan.layers`` (shared blocks,
bodies and checks), never another family's file (tests/test_architecture.py). The
shared bodies and ``ClipDiscriminator`` are re-exported here.
"""

from keras_vgan.layers.checks import check_geometry
from keras_vgan.layers.dcgan import ImageDecoder, ImageEncoder, VideoEncoder
from keras_vgan.layers.patchgan import ClipDiscriminator
from keras_vgan.layers.unet import UNet3D
from keras_vgan.models.enhancement import VideoEnhancer
from keras_vgan.models.frame_gan import FrameDiscriminator, FrameGenerator
from keras_vgan.models.interpolation import FrameInterpolator, linear_blend
from keras_vgan.models.maskgit import MaskGITTransformer
from keras_vgan.models.mocogan import (
    LayeredMoCoGANGenerator,
    MoCoGANDiscriminator,
    MoCoGANGenerator,
)
from keras_vgan.models.prediction import (
    Conv3DPredictor,
    ConvLSTMCell,
    ConvLSTMPredictor,
    copy_last_frame,
)
from keras_vgan.models.recycle_gan import RecycleGANGenerator, RecyclePredictor
from keras_vgan.models.simvp import ConvSC, SimVPPredictor, TAUPredictor, TranslatorBlock
from keras_vgan.models.stylegan_v import StyleGANVDiscriminator, StyleGANVGenerator
from keras_vgan.models.tgan import TemporalUpBlock, TGANDiscriminator, TGANGenerator
from keras_vgan.models.translation import TranslationDiscriminator, TranslationGenerator
from keras_vgan.models.vae import SVGLP, TDVAE
from keras_vgan.models.vgan import (
    ConditionalVGANDiscriminator,
    ConditionalVGANGenerator,
    VGANDiscriminator,
    VGANGenerator,
)
from keras_vgan.models.videogpt import VideoGPTTransformer
from keras_vgan.models.vpn import VideoPixelNetwork
from keras_vgan.models.vqvae import VQVAE, VectorQuantizer, load_tokenizer

__all__ = [
    "ClipDiscriminator",
    "FrameInterpolator",
    "UNet3D",
    "VideoEnhancer",
    "linear_blend",
    "Conv3DPredictor",
    "ConvLSTMCell",
    "ConvLSTMPredictor",
    "copy_last_frame",
    "ConvSC",
    "RecycleGANGenerator",
    "RecyclePredictor",
    "SimVPPredictor",
    "TAUPredictor",
    "TranslatorBlock",
    "ConditionalVGANDiscriminator",
    "ConditionalVGANGenerator",
    "FrameDiscriminator",
    "FrameGenerator",
    "ImageDecoder",
    "ImageEncoder",
    "MoCoGANDiscriminator",
    "LayeredMoCoGANGenerator",
    "MoCoGANGenerator",
    "StyleGANVDiscriminator",
    "StyleGANVGenerator",
    "TranslationDiscriminator",
    "TranslationGenerator",
    "TGANDiscriminator",
    "TGANGenerator",
    "TemporalUpBlock",
    "VGANDiscriminator",
    "VGANGenerator",
    "VideoEncoder",
    "MaskGITTransformer",
    "VideoGPTTransformer",
    "VideoPixelNetwork",
    "SVGLP",
    "TDVAE",
    "VQVAE",
    "VectorQuantizer",
    "load_tokenizer",
    "check_geometry",
]
