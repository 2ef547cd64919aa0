"""The named training presets: pure data, one table of ``TrainConfig``s.

Each preset is a complete ``config.TrainConfig`` (the fields it does not set keep
their defaults); ``get_preset(name)`` returns a copy. What a preset's ``model``
means is its family's registration (``keras_vgan.registry``); the builders are in
``keras_vgan.builders``.
"""

import dataclasses

from keras_vgan.config import TrainConfig

# Shared by the conditional-task presets: small networks, spectral-norm discriminators.
_TASK_COMMON = dict(
    data="moving_mnist",
    size=64,
    width=16,
    depth=3,
    d_norm="spectral",
    mask_l1=0.0,
    g_lr=1e-3,
    d_lr=2e-4,
    ema_decay=0.99,
    batch_size=8,
    epochs=20,
    steps_per_epoch=100,
    num_samples=4,
)

# StyleGAN2's optimisation (no D norm, lazy R1 every 16 steps, Adam 2e-3 with beta_1 0),
# which the StyleGAN-V (at 2.5e-3), layered MoCoGAN, VGAN and TGAN presets share.
_R1_RECIPE = dict(
    d_norm="none",
    loss="non_saturating",
    r1_gamma=1.0,
    r1_interval=16,
    g_lr=2e-3,
    d_lr=2e-3,
    beta_1=0.0,
    beta_2=0.99,
)
# Shared by the StyleGAN-V presets (keras_vgan/models/stylegan_v.py).
_STYLEGAN_V = dict(
    **{**_R1_RECIPE, "g_lr": 2.5e-3, "d_lr": 2.5e-3},
    sparse_frames=3,
    max_frame_distance=32,
    mask_l1=0.0,
    ema_decay=0.99,
    batch_size=16,
    epochs=50,
    steps_per_epoch=200,
)
# The video predictors' training recipe (see the prediction presets).
_PREDICT_COMMON = dict(
    frames=20,
    context_frames=10,
    adv_weight=0.0,
    l1_weight=0.0,
    l2_weight=1.0,
    lr_schedule="onecycle",
)

# SimVP's and TAU's recipe at a CPU budget (the comment above their presets).
_PREDICT_CPU_BUDGET = dict(l1_weight=1.0, l2_weight=0.3, g_lr=5e-3, depth=4)

# Shared by the VAE presets (svg_lp, tdvae).
_VAE_COMMON = dict(
    data="moving_mnist",
    frames=20,
    context_frames=10,
    size=64,
    width=32,
    depth=4,
    latent_dim=10,
    rnn_size=256,
    kl_weight=1e-4,
    g_lr=1e-3,
    beta_1=0.9,
    ema_decay=0.99,
    mask_l1=0.0,
    batch_size=16,
    epochs=20,
    steps_per_epoch=200,
    num_samples=4,
)
_SHAPES = dict(data="shapes", channels=3)
# The layered MoCoGAN's presets: 16 frames, MoCoGAN's content code of 50, StyleGAN-V's
# optimiser and lazy R1 (see the presets).
_LAYERED = dict(
    model="mocogan_layers",
    frames=16,
    latent_dim=50,
    mask_l1=0.0,
    **_R1_RECIPE,
)
# Recycle-GAN's recipe (CycleGAN's: least squares, Adam 2e-4 / 0.5, lambda 10), small nets.
_RECYCLE_GAN = dict(
    frames=16,
    size=32,
    width=16,
    depth=3,
    d_norm="spectral",
    loss="lsgan",
    adv_weight=1.0,
    recycle_weight=10.0,
    recurrent_weight=10.0,
    mask_l1=0.0,
    ema_decay=0.99,
    batch_size=4,
    epochs=20,
    steps_per_epoch=50,
    num_samples=4,
)
_TDVAE = dict(latent_dim=8, rnn_size=128, max_jump=4, kl_weight=1e-3)
# Shared by the tokenizer presets (model="vqvae"; keras_vgan/tokenizer.py): 16 frames of
# 32x32 (the clips of the GAN tables; the network is fully convolutional, so it also
# tokenizes the 20 frames of a 10 -> 10 prediction clip), codes t, h, w = 8, 8, 8 of a
# 256-entry codebook of 32 numbers (latent_dim), widths 16 and 32 (depth 2: H / 4).
_VQVAE = dict(
    data="moving_mnist",
    frames=16,
    size=32,
    width=16,
    depth=2,
    latent_dim=32,
    codebook_size=256,
    temporal_stride=2,
    commitment_weight=0.25,
    codebook_decay=0.99,
    dead_code_steps=20,
    g_lr=1e-3,
    beta_1=0.9,
    ema_decay=0.99,
    mask_l1=0.0,
    batch_size=8,
    epochs=20,
    steps_per_epoch=100,
    num_samples=4,
)
# Shared by the token-transformer presets (maskgit, videogpt; keras_vgan/token_models.py).
# They model the codes of a trained tokenizer, which --tokenizer names: train it first,
# python -m training --preset vqvae_moving_mnist (vqvae_shapes for the shapes presets),
# then python -m training --preset maskgit_moving_mnist --tokenizer RUN_DIR. 20 frames of
# 32x32 (10 -> 10): a 10 x 8 x 8 grid of 640 tokens; width 64, 3 blocks of 4 heads.
_TOKENS = dict(
    data="moving_mnist",
    frames=20,
    context_frames=10,
    size=32,
    width=64,
    depth=3,
    heads=4,
    decode_steps=8,
    g_lr=1e-3,
    beta_1=0.9,
    beta_2=0.99,
    ema_decay=0.99,
    mask_l1=0.0,
    batch_size=8,
    epochs=20,
    steps_per_epoch=100,
    num_samples=4,
)
# Shared by the VPN presets (model="vpn"; greyscale only).
_VPN = dict(
    data="moving_mnist",
    frames=20,
    context_frames=10,
    size=16,
    channels=1,
    width=32,
    depth=3,
    g_lr=1e-3,
    beta_1=0.9,
    ema_decay=0.99,
    mask_l1=0.0,
    batch_size=8,
    epochs=20,
    steps_per_epoch=200,
    num_samples=4,
)

PRESETS = {
    # About five minutes on a 2-core CPU: small clips, small network.
    "quick": TrainConfig(
        frames=16,
        size=32,
        width=16,
        depth=3,
        latent_dim=64,
        batch_size=16,
        epochs=40,
        steps_per_epoch=60,
        ema_decay=0.99,
        num_samples=16,
    ),
    # VGAN on the built-in Moving MNIST at the paper's resolution and depth, trained with
    # StyleGAN2's optimisation: at 240 CPU-s on 16x32x32 (README, Which model) it took VGAN
    # from FD 105.5 / 90.8 (seeds 0 / 1; batch-norm D, Adam 2e-4) to 38.6 / 57.8, past the
    # frame-independent baseline's 65.2 / 82.3.
    "vgan_moving_mnist": TrainConfig(
        frames=32, size=64, channels=1, width=64, depth=4, **_R1_RECIPE
    ),
    # The paper's exact configuration (32 frames of 64x64x3) on RGB bouncing shapes.
    "vgan_paper": TrainConfig(data="shapes", frames=32, size=64, channels=3, width=64, depth=4),
    # RGB bouncing shapes, 16 frames: a quicker 3-channel run.
    "vgan_shapes": TrainConfig(data="shapes", frames=16, size=64, channels=3, width=32, depth=4),
    # WGAN-GP variant: layer norm in the critic (batch statistics break the per-sample penalty).
    "vgan_wgan_gp": TrainConfig(
        loss="wgan",
        gp_weight=10.0,
        d_norm="layer",
        d_steps=5,
        g_lr=1e-4,
        d_lr=1e-4,
        beta_1=0.0,
        beta_2=0.9,
        frames=16,
        size=64,
        width=32,
    ),
    # --- Model zoo (keras_vgan/models/): 16 frames of 64x64, as in the TGAN/MoCoGAN papers.
    # Frame-independent DCGAN baseline: what a model without time does.
    "frame_gan_moving_mnist": TrainConfig(
        model="frame_gan", frames=16, size=64, width=32, depth=4, mask_l1=0.0
    ),
    "frame_gan_shapes": TrainConfig(
        model="frame_gan", data="shapes", channels=3, frames=16, size=64, width=32, mask_l1=0.0
    ),
    # TGAN: non-saturating loss, a 3D critic and a frame discriminator on 4 sampled
    # frames per clip (d_frames, DVD-GAN's spatial D). Earlier, at 240 CPU-s on
    # 16x32x32 (benchmarks/quality_comparison.py, seed 0) the former hinge + spectral
    # norm critic collapsed (offline FD 169, the same clip for every z); batch norm gave
    # 116 with coherent motion, the frame discriminator 90. `--loss hinge --d-norm
    # spectral --d-frames 0` is the earlier recipe (spectral norm in place of the paper's
    # singular value clipping).
    # StyleGAN2's optimisation on top (no critic norm, lazy R1, Adam 2e-3, beta_1 0): at
    # 240 CPU-s it took TGAN from FD 81.4 / 159.8 (seeds 0 / 1; the batch-norm critic at
    # 2e-4) to 33.0 / 66.5, past the frame-independent baseline's 65.2 / 82.3.
    "tgan_moving_mnist": TrainConfig(
        model="tgan",
        frames=16,
        size=64,
        width=32,
        depth=4,
        d_frames=4,
        mask_l1=0.0,
        **_R1_RECIPE,
    ),
    # TGAN with WGAN-GP (layer-normalised critic, 5 critic steps, Adam(1e-4, 0, 0.9)).
    "tgan_shapes": TrainConfig(
        model="tgan",
        data="shapes",
        channels=3,
        frames=16,
        size=64,
        width=32,
        depth=4,
        loss="wgan",
        gp_weight=10.0,
        d_norm="layer",
        d_steps=5,
        g_lr=1e-4,
        d_lr=1e-4,
        beta_1=0.0,
        beta_2=0.9,
        mask_l1=0.0,
    ),
    # MoCoGAN: content code of 50 (latent_dim), motion code of 10, image + video discriminators.
    "mocogan_moving_mnist": TrainConfig(
        model="mocogan", frames=16, size=64, width=32, depth=4, latent_dim=50, mask_l1=0.0
    ),
    "mocogan_shapes": TrainConfig(
        model="mocogan",
        data="shapes",
        channels=3,
        frames=16,
        size=64,
        width=32,
        depth=4,
        latent_dim=50,
        mask_l1=0.0,
    ),
    # Layered MoCoGAN: MoCoGAN's codes and discriminators; one image per clip (a background
    # and two sprites) moved by per-frame translations (models/mocogan.py). Trained with
    # StyleGAN-V's recipe (no D norm, lazy R1, Adam 2e-3, beta_1 0): in 200-300 CPU-s
    # trials on 16x32x32 (seed 0) the DCGAN recipe (batch-norm D, 2e-4) gave grey frames,
    # hinge + spectral norm thin bars, this one digit-sized strokes on black.
    "mocogan_layers_moving_mnist": TrainConfig(size=64, width=32, depth=4, **_LAYERED),
    "mocogan_layers_shapes": TrainConfig(size=64, width=32, depth=4, **_LAYERED, **_SHAPES),
    # The main job: 16 frames of 32x32 (the offline metric's clip format), batch 16, its
    # comparisons at about 460 CPU-s (README, Which model). Adam at 1e-3: at
    # that budget it beat 2e-3 with both seeds (offline FD 16.1 / 14.5 against 26.5 / 15.9).
    # D_I with minibatch stddev (groups of 4 clips): at the job's 3,000 steps offline FD
    # 12.3 / 18.2 against 11.9 / 23.2 without it; 16x16 sprites (--sprite-size 16) scored
    # 16.5 / 22.7 with it (README, Which model). No normalisation in the image generator:
    # over four seeds offline FD 19.7 / 10.5 / 10.0 / 10.8 against 18.4 / 12.1 / 36.8 / 11.6
    # with batch norm, IS higher with all four (README, Which model, 2026-12-07). Resize
    # upsampling in G (no checkerboard in any sheet) and D_V on 2x average-pooled clips
    # (DVD-GAN's D_T), 4,000 steps: at 460 CPU-s, four seeds, offline FD 10.0 / 8.5 / 12.9 /
    # 11.9 against 11.7 / 12.6 / 9.8 / 11.6 for the preset before, IS 2.38 against 2.32 on
    # average, KVD 1.09 against 1.00: equal within seed noise (README, Which model, 2026-12-08).
    # 6,000 steps since the layered generator's compositing and D_V's pooling got cheaper
    # (1.57x per step on one core, 1.29x on the 2-core main job, whose training took 5 min
    # 20 s); at equal CPU time the extra steps tied on FD (README, Which model, 2026-12-08).
    # R1 gamma 4 instead of 1: at 460 CPU-s, four seeds, offline FD 11.2 / 9.4 / 8.9 / 10.4
    # against 11.6 / 10.0 / 15.8 / 9.6, better mean KVD and IS, no bad seed (README).
    "mocogan_layers_quick": TrainConfig(
        g_norm="none",
        g_upsample="resize",
        d_mbstd=4,
        d_video_downsample=2,
        size=32,
        width=16,
        depth=3,
        batch_size=16,
        ema_decay=0.99,
        epochs=80,
        steps_per_epoch=75,
        num_samples=16,
        **{**_LAYERED, "g_lr": 1e-3, "d_lr": 1e-3, "r1_gamma": 4.0},
    ),
    # Class-conditional (label embedding in G, projection discriminator): Moving MNIST
    # labels are the first digit's class, bouncing shapes' the first shape's type.
    "vgan_cond_moving_mnist": TrainConfig(
        model="vgan", num_classes=10, frames=16, size=64, width=32, depth=4
    ),
    "tgan_cond_shapes": TrainConfig(
        model="tgan",
        data="shapes",
        channels=3,
        num_classes=3,
        frames=16,
        size=64,
        width=32,
        depth=4,
        loss="hinge",
        d_norm="spectral",
        mask_l1=0.0,
    ),
    "mocogan_cond_moving_mnist": TrainConfig(
        model="mocogan",
        num_classes=10,
        frames=16,
        size=64,
        width=32,
        depth=4,
        latent_dim=50,
        mask_l1=0.0,
    ),
    # StyleGAN-V: continuous time, K=3 sparse frames per clip (at most max_frame_distance
    # apart) and their timestamps; StyleGAN2's non-saturating loss with lazy R1 (every
    # 16th step), Adam(0.0025, 0, 0.99), no normalisation in the discriminator.
    "stylegan_v_moving_mnist": TrainConfig(
        model="stylegan_v",
        frames=16,
        size=64,
        width=16,
        depth=4,
        latent_dim=64,
        **_STYLEGAN_V,
    ),
    "stylegan_v_shapes": TrainConfig(
        model="stylegan_v",
        data="shapes",
        channels=3,
        frames=16,
        size=64,
        width=16,
        depth=4,
        latent_dim=64,
        **_STYLEGAN_V,
    ),
    # About five CPU minutes (800 steps of batch 8, ~0.37 CPU-s each on 2 AVX2 cores):
    # 16 frames of 32x32 Moving MNIST, the K=3 frames anywhere in the 16.
    "stylegan_v_quick": TrainConfig(
        model="stylegan_v",
        frames=16,
        size=32,
        width=16,
        depth=3,
        latent_dim=32,
        num_samples=16,
        **{
            **_STYLEGAN_V,
            **dict(
                max_frame_distance=15, r1_gamma=0.1, batch_size=8, epochs=40, steps_per_epoch=20
            ),
        },
    ),
    # --- Conditional tasks (keras_vgan/tasks.py): (inputs, targets) pairs of keras_vgan.data.pairs.
    # Moving MNIST 10 -> 10 (the standard split), 64x64, trained as the predictors' papers
    # train them: MSE alone (adv_weight=0: no discriminator; L1's median is the blank
    # background on sparse digits), Adam at 1e-3 under a one-cycle schedule (OpenSTL's
    # recipe; batch 8 rather than 16 on a CPU, more steps per CPU second).
    "predict_convlstm_moving_mnist": TrainConfig(
        model="predict_convlstm", **_PREDICT_COMMON, **_TASK_COMMON
    ),
    "predict_conv3d_moving_mnist": TrainConfig(
        model="predict_conv3d", **_PREDICT_COMMON, **_TASK_COMMON
    ),
    # SimVP (gSTA translator) and TAU: hid_S = width 16, N_S = depth 4, hid_T = 128,
    # N_T = 4 (OpenSTL's 64 / 4 / 512 / 8, narrowed for a CPU); TAU adds its differential
    # divergence term with OpenSTL's alpha = 0.1.
    # Both presets train with the recipe that beats the blank and copy-last frames on every
    # metric after 900 CPU-s (benchmarks/prediction_quality.py: SimVP with three seeds
    # of three, TAU with one, a hair under the 1% margin on SSIM; README): the
    # one-cycle peak at 5e-3 (1e-3 and 3e-3 learn too slowly in ~1,000 steps) and L1 +
    # 0.3 * L2, where MSE alone blurs uncertain digits into a haze that loses SSIM and
    # MAE to the blank frame, and L1 + 0.1 * L2 collapses to the blank frame itself.
    "predict_simvp_moving_mnist": TrainConfig(
        model="predict_simvp", **{**_TASK_COMMON, **_PREDICT_COMMON, **_PREDICT_CPU_BUDGET}
    ),
    # SimVP with the motion read-out (SimVPFlowPredictor): future frames are the last
    # context frame warped along chained per-step motion fields and blended with pixels.
    "predict_simvp_flow_moving_mnist": TrainConfig(
        model="predict_simvp_flow", **{**_TASK_COMMON, **_PREDICT_COMMON, **_PREDICT_CPU_BUDGET}
    ),
    "predict_tau_moving_mnist": TrainConfig(
        model="predict_tau",
        dd_weight=0.1,
        **{**_TASK_COMMON, **_PREDICT_COMMON, **_PREDICT_CPU_BUDGET},
    ),
    # The first and last of 9 frames -> the 7 between (key_stride=4: every 4th frame).
    "interpolate_moving_mnist": TrainConfig(
        model="interpolate", frames=9, l1_weight=0.0, l2_weight=1.0, **_TASK_COMMON
    ),
    # Video-to-video translation: Sobel edge maps -> the digits of 8-frame clips; frame +
    # video discriminators on (source, output), L1 plus the temporal-consistency term.
    "translate_edges_moving_mnist": TrainConfig(
        model="translate", frames=8, temporal_weight=1.0, **_TASK_COMMON
    ),
    # Unpaired video style transfer, Recycle-GAN (keras_vgan/unpaired.py): Moving MNIST
    # digits <-> other digits drawn independently, with thickened amber-on-navy strokes
    # (data.unpaired); 16 frames of 32x32, the offline metric's clips (FD per direction).
    "recycle_gan_moving_mnist": TrainConfig(
        model="recycle_gan", domain_b="thick+colour", **_RECYCLE_GAN
    ),
    "recycle_gan_shapes": TrainConfig(
        model="recycle_gan", data="shapes", channels=3, domain_b="invert", **_RECYCLE_GAN
    ),
    # Restoration of 8-frame clips: x2 / x4 super-resolution (area down-sampling) and
    # denoising (Gaussian noise, std 0.2).
    "sr_x2_moving_mnist": TrainConfig(model="enhance", frames=8, degrade="x2", **_TASK_COMMON),
    "sr_x4_moving_mnist": TrainConfig(model="enhance", frames=8, degrade="x4", **_TASK_COMMON),
    "denoise_moving_mnist": TrainConfig(model="enhance", frames=8, degrade="noise", **_TASK_COMMON),
    # --- The VAE family (keras_vgan/variational.py): 10 -> 10 frames, SVG-LP's settings
    # (z 10 per frame, LSTMs of 256, beta 1e-4, Adam beta_1 0.9) on a DCGAN 64x64 pyramid.
    "svg_lp_moving_mnist": TrainConfig(model="svg_lp", **_VAE_COMMON),
    # Conditioned on the action: the first digit's direction of motion (8 sectors).
    "svg_lp_action_moving_mnist": TrainConfig(
        model="svg_lp", num_classes=8, labels="direction", **_VAE_COMMON
    ),
    "svg_lp_shapes": TrainConfig(model="svg_lp", **{**_VAE_COMMON, **_SHAPES}),
    # Conditioned on the first shape's type (circle, square, triangle).
    "svg_lp_cond_shapes": TrainConfig(model="svg_lp", num_classes=3, **{**_VAE_COMMON, **_SHAPES}),
    # TD-VAE: z 8, belief LSTM 128, jumps of 1..4 frames.
    "tdvae_moving_mnist": TrainConfig(model="tdvae", **{**_VAE_COMMON, **_TDVAE}),
    "tdvae_shapes": TrainConfig(model="tdvae", **{**_VAE_COMMON, **_SHAPES, **_TDVAE}),
    # Video Pixel Network (keras_vgan/models/vpn.py): 256-way softmax per pixel, 16x16
    # greyscale, 10 -> 10; width 32, 3 causal encoder and 3 gated decoder blocks.
    "vpn_moving_mnist": TrainConfig(model="vpn", **_VPN),
    "vpn_shapes": TrainConfig(model="vpn", **{**_VPN, "data": "shapes"}),
    # Token transformers over a vqvae run's codes (pass it with --tokenizer RUN_DIR):
    # MaskGIT (masked, iterative parallel decoding) and VideoGPT (causal, token by token).
    "maskgit_moving_mnist": TrainConfig(model="maskgit", **_TOKENS),
    "maskgit_shapes": TrainConfig(model="maskgit", **{**_TOKENS, **_SHAPES}),
    "videogpt_moving_mnist": TrainConfig(model="videogpt", **_TOKENS),
    "videogpt_shapes": TrainConfig(model="videogpt", **{**_TOKENS, **_SHAPES}),
    # The video tokenizer: a VQ-VAE with an EMA codebook and dead-code restarts.
    "vqvae_moving_mnist": TrainConfig(model="vqvae", **_VQVAE),
    "vqvae_shapes": TrainConfig(model="vqvae", **{**_VQVAE, **_SHAPES}),
}


def get_preset(name):
    """Returns a copy of a named preset; one-line ValueError for an unknown name."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; available: {', '.join(sorted(PRESETS))}")
    return dataclasses.replace(PRESETS[name])
