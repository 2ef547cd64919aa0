"""Reusable building blocks for video generators and discriminators.

The model families (``keras_vgan/models/``) are leaves: what two of them share
lives here, so that no model file imports another.

* ``blocks``: up/down blocks, norms, the DCGAN initialiser, discriminator levels
  and logit heads, the 3D transposed convolutions' fast CPU paths;
* ``checks``: argument checks with one-line messages;
* ``conditioning``: label embeddings and the projection head;
* ``dcgan``: the 2D DCGAN decoder and the 2D / 3D encoder bodies;
* ``patchgan``: ``ClipDiscriminator``, the 3D PatchGAN of the task models;
* ``unet``: the 3D U-Net of the restoration and interpolation generators.
"""

from keras_vgan.layers.blocks import (
    DownBlock,
    LeakyDownBlock,
    SubpixelConv3D,
    SubpixelConv3DTranspose,
    UpBlock,
    bounded,
    conv3d_transpose_x2,
    dcgan_init,
    default_widths,
    down_block,
    leaky,
    logit_head,
    make_norm,
)
from keras_vgan.layers.checks import (
    D_NORMS,
    NORMS,
    check_frame_size,
    check_geometry,
    check_norm,
    check_positive,
    check_size,
    check_widths,
)
from keras_vgan.layers.conditioning import ProjectionHead
from keras_vgan.layers.dcgan import ImageDecoder, ImageEncoder, PyramidEncoder, VideoEncoder
from keras_vgan.layers.patchgan import ClipDiscriminator
from keras_vgan.layers.unet import UNet3D

__all__ = [
    "D_NORMS",
    "NORMS",
    "ClipDiscriminator",
    "DownBlock",
    "ImageDecoder",
    "ImageEncoder",
    "LeakyDownBlock",
    "ProjectionHead",
    "PyramidEncoder",
    "SubpixelConv3D",
    "SubpixelConv3DTranspose",
    "UNet3D",
    "UpBlock",
    "VideoEncoder",
    "bounded",
    "check_frame_size",
    "check_geometry",
    "check_norm",
    "check_positive",
    "check_size",
    "check_widths",
    "conv3d_transpose_x2",
    "dcgan_init",
    "default_widths",
    "down_block",
    "leaky",
    "logit_head",
    "make_norm",
]
