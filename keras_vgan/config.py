"""The settings of a training run (``TrainConfig``) and their checks, run once at the edge.

``validate_config(config)`` checks every field (the model's own checks come
from its family in ``keras_vgan.registry``) and opens the data the config
names, once: it returns a ``RunData`` that the builders
(``keras_vgan.builders``) and ``runs.train`` take instead of opening the data
again. Errors are one-line ValueErrors naming the field and what was expected.
"""

import dataclasses
import json
import math
import os

from keras_vgan import augment as augment_lib
from keras_vgan import data as data_lib
from keras_vgan import losses as losses_lib
from keras_vgan import registry
from keras_vgan.data import pairs
from keras_vgan.data.builtin import DIRECTIONS
from keras_vgan.distribute import STRATEGIES
from keras_vgan.layers.checks import NORMS, UPSAMPLING

DATA = ("moving_mnist", "shapes")
# Built-in data sets and the channel counts they can produce. ``data`` may also be a
# path (a video folder or file, frame folders, a Moving MNIST .npy) or ``tfds:NAME``:
# any of those gives 1 or 3 channels (see ``keras_vgan.data.open_source``).
DATA_CHANNELS = {"moving_mnist": (1,), "shapes": (1, 3)}
# Data sets that give class labels (for num_classes > 0), and how many classes.
DATA_CLASSES = {"moving_mnist": 10, "shapes": 3}  # class of the first digit / shape
LR_SCHEDULES = ("constant", "cosine", "onecycle")  # TrainConfig.lr_schedule
# What a label is (``labels``): the class above, or the first digit's direction of motion
# in ``data.DIRECTIONS`` compass sectors (built-in Moving MNIST; an action per clip).
LABEL_KINDS = ("class", "direction")


@dataclasses.dataclass
class TrainConfig:
    """Every setting of a training run; each field is a flag of ``python -m training``."""

    model: str = "vgan"  # a family of keras_vgan.registry
    data: str = "moving_mnist"
    # Data on disk (``data`` a path or tfds:NAME): frame step, clip starts, how frames fit.
    data_stride: int = 1  # take every n-th frame of a video (temporal subsampling)
    data_start: str = "random"  # clip starts: "random" or "even" (evenly spaced)
    data_resize: str = "crop"  # "crop" (keep aspect, centre crop) or "stretch"
    frames: int = 16
    size: int = 64
    channels: int = 1
    latent_dim: int = 100  # frame_gan: per frame; mocogan: the content code
    num_classes: int = 0  # > 0: class-conditional on the data's labels (DATA_CLASSES)
    width: int = 64  # generator's finest width; the coarsest is width * 2**(depth-1)
    # The noise GANs' generator alone (vgan, tgan, mocogan, mocogan_layers, frame_gan):
    # its finest width, 0 = width. A generator that draws one image per clip costs little
    # next to its discriminators, so it can be wider than they are.
    g_width: int = 0
    # Their image generator's x2 levels: "transpose" (DCGAN's) or "resize" (nearest x2 and a
    # 3x3 convolution: no checkerboard; layers.checks.UPSAMPLING). Not VGAN's 3D streams.
    g_upsample: str = "transpose"
    depth: int = 4  # x2 up/down-sampling levels: frames and size are multiples of 2**depth
    g_norm: str = "batch"
    d_norm: str = "batch"
    loss: str = "non_saturating"
    gp_weight: float = 0.0
    r1_gamma: float = 0.0
    r1_interval: int = 1  # lazy R1: every n-th step, scaled by n (StyleGAN2 uses 16)
    mask_l1: float = 0.1  # VGAN's lambda for the mask sparsity prior
    augment: str = ""  # DiffAugment policy for D's inputs, e.g. "translation,cutout,brightness"
    # Motion as extra D input channels (video GANs; keras_vgan.motion.MotionDiscriminator):
    # "" (off), "diff" (frame differences) or "flow" (the shipped SPyNet's flow).
    d_motion: str = ""
    # A frame discriminator on d_frames sampled frames per clip next to the video one
    # (DVD-GAN's spatial D; keras_vgan.layers.frames.DualDiscriminator); 0: none.
    d_frames: int = 0
    d_steps: int = 1
    # Sparse-frame training (families with timestamps, e.g. stylegan_v): K frames per clip
    # and their times, drawn from clips of max_frame_distance + 1 frames (0: of frames).
    sparse_frames: int = 0  # K (StyleGAN-V: 3); 0 = the whole clip
    max_frame_distance: int = 0  # largest time between the first and last of the K frames
    g_lr: float = 2e-4
    d_lr: float = 2e-4
    beta_1: float = 0.5
    beta_2: float = 0.999
    # Learning rate over the run's epochs * steps_per_epoch steps (LR_SCHEDULES): "constant";
    # "cosine" (cosine decay to 0); "onecycle" (Smith & Topin 2019, OpenSTL's default:
    # linear warm-up from lr/25 over 30% of the steps, then cosine decay to lr/25e4).
    lr_schedule: str = "constant"
    ema_decay: float = 0.999
    batch_size: int = 32
    epochs: int = 20
    steps_per_epoch: int = 200
    seed: int = 0
    strategy: str = "one_device"
    num_samples: int = 16  # clips in the sample grid written each epoch
    fps: int = 8  # frames per second of sample GIF/mp4 files
    eval_every: int = 0  # epochs between offline-metric evaluations in TensorBoard (0: off)
    eval_clips: int = 256  # generated and real clips per evaluation (callbacks.PeriodicEvaluation)
    log_every: int = 50  # steps between TensorBoard scalars (window means, learning rates, steps/s)
    keep_checkpoints: int = 2  # newest intact checkpoints kept (the newest intact one never goes)
    # mocogan_layers: 0 = full-canvas layers, else the side of its centred sprites.
    sprite_size: int = 0
    # mocogan, mocogan_layers: minibatch-stddev group of D_I (StyleGAN's; 0 = off).
    d_mbstd: int = 0
    # mocogan, mocogan_layers: D_V judges clips average-pooled by this factor in space
    # (DVD-GAN's temporal discriminator, k = 2); 1 = full resolution.
    d_video_downsample: int = 1
    # mocogan, mocogan_layers: frames per clip D_I judges, sampled anew each step (0: the
    # family's default, every frame for mocogan, LAYERED_IMAGE_FRAMES for mocogan_layers).
    d_image_frames: int = 0
    # Stop after this many seconds of process CPU time (all threads; 0: no budget). The
    # run ends as if its epochs were done: checkpoint, samples and model.keras are written.
    # Budget-matched comparisons use it: a CPU second costs the same on a busy machine.
    cpu_budget_s: float = 0.0
    # Conditional tasks (families with a task; keras_vgan/tasks.py). ``frames`` is the whole
    # clip, ``width``/``depth`` the networks' finest width and number of /2 levels.
    context_frames: int = 10  # prediction: frames of context; the other frames are predicted
    key_stride: int = 0  # interpolation: frames between key frames (0 = first and last only)
    degrade: str = "x2"  # restoration: x2 / x4 super-resolution or noise (denoising)
    adv_weight: float = 0.01  # adversarial term next to the reconstruction terms
    l1_weight: float = 1.0
    l2_weight: float = 0.0
    temporal_weight: float = 0.0  # temporal-consistency term (translation)
    # Flow-warped temporal term (translation, vid2vid): |y_t - warp(y_{t-1}, flow of source)|.
    flow_weight: float = 0.0
    flow_method: str = "spynet"  # the source's flow: "spynet" (shipped weights), "dis", "farneback"
    dd_weight: float = 0.0  # prediction: TAU's differential divergence regularisation
    ssim_weight: float = 0.0  # structural term 1 - SSIM of the frames (losses.ssim_loss)
    # The VAE family (svg_lp, tdvae; keras_vgan/variational.py): latent_dim is z per frame.
    kl_weight: float = 1e-4  # beta on the KL terms of the ELBO (SVG-LP's 1e-4)
    rnn_size: int = 256  # LSTM units (SVG-LP: its frame code is half of it)
    max_jump: int = 4  # tdvae: the longest jump t -> t + delta trained
    labels: str = "class"  # num_classes > 0: "class" (digit / shape) or "direction" (of motion)
    # Unpaired translation (recycle_gan; keras_vgan/unpaired.py): domain B is data_b (a path),
    # or domain A's built-in clips drawn independently and restyled (data.unpaired.STYLES).
    data_b: str = ""
    domain_b: str = "thick"  # the built-in domain B's style, e.g. "thick", "invert", "thick+colour"
    recycle_weight: float = 10.0  # |x_{t+1} - G_BA(P_B(G_AB(x_{t-1}), G_AB(x_t)))| (both ways)
    recurrent_weight: float = 10.0  # |x_{t+1} - P_A(x_{t-1}, x_t)| (each domain's predictor)
    cycle_weight: float = 0.0  # CycleGAN's |x - G_BA(G_AB(x))| (optional)
    # The video tokenizer (vqvae; keras_vgan/tokenizer.py): latent_dim is the code vector's
    # size, depth the /2 levels of the frame, width the finest level's channels.
    codebook_size: int = 512  # K codes
    temporal_stride: int = 2  # time shrinks by it (a power of two, <= 2**depth)
    commitment_weight: float = 0.25  # beta of the commitment loss ||z - sg(e)||^2
    codebook_decay: float = 0.99  # decay of the codebook's EMA (counts and sums)
    dead_code_steps: int = 100  # codes unused this many steps restart at encoder outputs
    # The token models (maskgit, videogpt; keras_vgan/token_models.py): a transformer of
    # width dims and depth blocks over the codes of a trained VQ-VAE (a vqvae run).
    tokenizer: str = ""  # the vqvae run directory (or its .keras file) whose codes are modelled
    heads: int = 4  # attention heads (width must be a multiple)
    decode_steps: int = 8  # maskgit: iterative decoding steps
    top_k: int = 0  # sampling: draw among the k most likely tokens (0: all)
    temperature: float = 1.0  # sampling: divides the logits (0: the argmax)

    def to_json(self):
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data):
        names = {f.name for f in dataclasses.fields(cls)}
        if not isinstance(data, dict):
            raise ValueError(f"a config is a JSON object of TrainConfig fields, not {data!r:.60}")
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown config keys {unknown}; expected fields of TrainConfig")
        config = cls(**data)
        check_types(config)
        return config

    def widths(self, finest_first=False):
        """Channel widths of the networks' ``depth`` levels: ``width * 2**(depth-1) ... width``.

        Generator order (coarsest first); ``finest_first=True`` gives the
        discriminator's (and the task networks') order.
        """
        widths = _pyramid(self.width, self.depth)
        return tuple(reversed(widths)) if finest_first else widths

    def generator_widths(self):
        """The noise GANs' generator widths, coarsest first: ``widths()`` with
        ``g_width`` (0: ``width``) as the finest."""
        return _pyramid(self.g_width or self.width, self.depth)

    def data_frames(self):
        """Frames of the clips drawn from the data: ``max_frame_distance + 1`` for a
        sparse-frame run that sets it (its K frames come from them), else ``frames``."""
        if self.sparse_frames and self.max_frame_distance:
            return self.max_frame_distance + 1
        return self.frames

    @property
    def family(self):
        """The ``registry.ModelFamily`` of ``model``."""
        return registry.get(self.model)


@dataclasses.dataclass
class RunData:
    """The data of a run, opened and probed once (``open_data``) and passed along.

    Attributes:
        config: the config it was opened for.
        source: the ``ClipSource`` of data on disk (``data`` a path or ``tfds:NAME``);
            None for the built-in sets and paired folders.
        paired: a task's paired folder: ``(inputs_source, targets_source)``, else None.
        source_b: the second domain of an unpaired family (``data_b``), else None.
    """

    config: TrainConfig
    source: object = None
    paired: tuple | None = None
    source_b: object = None  # an unpaired family's domain B on disk (``--data-b``), else None

    @property
    def class_names(self):
        return tuple(getattr(self.source, "class_names", None) or ())


def open_data(config):
    """Opens (and so probes) the data a config names; one-line ``DataError`` if unusable.

    Built-in data needs no opening. A path with nothing readable raises, each
    bad file is a warning line.
    """
    if config.family.open_data is not None:  # e.g. two unpaired domains
        return RunData(config, **config.family.open_data(config))
    if config.data in DATA:
        return RunData(config)
    task = config.family.task
    if task is None:
        options = dict(
            frames=config.data_frames(),
            size=config.size,
            channels=config.channels,
            stride=config.data_stride,
            start=config.data_start,
            resize=config.data_resize,
        )
        if config.num_classes:
            options["labels"] = True  # (clips, labels) from root/<class>/<video>
        return RunData(config, source=data_lib.open_source(config.data, **options))
    clip = dict(frames=config.frames, size=config.size, channels=config.channels)
    if not config.data.startswith("tfds:") and pairs.is_paired_folder(config.data):
        if task == "restoration":
            clip["input_size"] = config.size // pairs.degrade_scale(config.degrade)
        return RunData(config, paired=pairs.open_paired_folders(config.data, **clip))
    return RunData(config, source=data_lib.open_source(config.data, **clip))


def check_types(config):
    """One-line ValueError for a field whose value is not of the field's type (a float
    field takes an int too, and must be finite: NaN slips through every range check)."""
    for field in dataclasses.fields(config):
        kind = field.type if isinstance(field.type, type) else type(field.default)
        value = getattr(config, field.name)
        if kind is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if ok and not math.isfinite(value):
                raise ValueError(f"{field.name}={value!r} must be a finite number")
        else:
            ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if not ok:
            raise ValueError(f"{field.name}={value!r:.60} must be of type {kind.__name__}")


def _choice(name, value, allowed):
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not one of {', '.join(allowed)}")


def _check_int(name, value, low, expected=None):
    """An ``int`` (not a bool) ``>= low``; ``expected`` words the error's demand."""
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ValueError(f"{name}={value!r} must be {expected or f'an integer >= {low}'}")


_FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}


def _pyramid(width, depth):
    """Widths of ``depth`` levels, coarsest first: ``width * 2**(depth-1) ... width``."""
    return tuple(int(width) * 2 ** (depth - 1 - i) for i in range(depth))


def validate_config(config):
    """Checks a config before anything is built and opens its data, once.

    Returns:
        The ``RunData`` to pass to ``builders.build_train_dataset`` / ``runs.train``.

    Raises:
        ValueError: one line naming the field (a ``DataError`` for unusable data).
    """
    check_types(config)
    if not 0 <= config.seed < 2**31:  # numpy and the int32 seeds of stateless random ops
        raise ValueError(f"seed={config.seed!r} must be an integer in [0, 2**31 - 1]")
    _choice("model", config.model, registry.names())
    family = config.family
    _check_data_name(config.data)
    _choice("g_norm", config.g_norm, NORMS)
    _choice("d_norm", config.d_norm, family.d_norms)
    augment_lib.parse_policy(config.augment)
    num_classes = config.num_classes
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 0:
        raise ValueError(f"num_classes={num_classes!r} must be an integer >= 0 (0 = unconditional)")
    _choice("labels", config.labels, LABEL_KINDS)
    if config.labels == "direction":
        if config.data != "moving_mnist":
            raise ValueError(f"labels='direction' needs data='moving_mnist', not {config.data!r}")
        if num_classes != DIRECTIONS:
            raise ValueError(
                f"num_classes={num_classes}: labels='direction' has {DIRECTIONS} classes"
            )
    elif num_classes and config.data in DATA and num_classes != DATA_CLASSES.get(config.data):
        have = ", ".join(f"{k} ({v})" for k, v in DATA_CLASSES.items())
        if config.data in DATA_CLASSES:
            what = f"does not match the labels of data={config.data!r}"
        else:
            what = f"needs labels and data={config.data!r} has none"
        raise ValueError(
            f"num_classes={num_classes} {what}; data sets with labels (classes): {have}"
        )
    _choice("loss", config.loss, tuple(losses_lib.ADVERSARIAL_LOSSES))
    _choice("strategy", config.strategy, STRATEGIES)
    positive = (
        "frames size channels latent_dim width depth d_steps batch_size epochs "
        "steps_per_epoch num_samples fps log_every keep_checkpoints"
    ).split()
    for name in positive:
        value = getattr(config, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name}={value!r} must be a positive integer")
    for name in ("g_lr", "d_lr"):
        if not getattr(config, name) > 0:
            raise ValueError(f"{name}={getattr(config, name)!r} must be > 0")
    _choice("lr_schedule", config.lr_schedule, LR_SCHEDULES)
    for name in ("gp_weight", "r1_gamma", "mask_l1", "cpu_budget_s"):
        if getattr(config, name) < 0:
            raise ValueError(f"{name}={getattr(config, name)!r} must be >= 0")
    for name in ("beta_1", "beta_2", "ema_decay"):
        if not 0 <= getattr(config, name) < 1:
            raise ValueError(f"{name}={getattr(config, name)!r} must be in [0, 1)")
    _check_eval(config)
    _check_motion(config)
    _check_frame_discriminator(config)
    _check_sparse(config)
    _check_mocogan_options(config)
    _check_generator_options(config, family)
    if num_classes and not family.num_classes:
        kind = "task models" if family.task else f"model={family.name!r}"
        raise ValueError(f"num_classes={num_classes} is not supported by {kind}")
    if family.task:
        for name in (
            "adv_weight", "l1_weight", "l2_weight", "temporal_weight", "dd_weight", "ssim_weight"
        ):  # fmt: skip
            if getattr(config, name) < 0:
                raise ValueError(f"{name}={getattr(config, name)!r} must be >= 0")
        if config.ssim_weight and config.size < 11:
            raise ValueError(
                f"ssim_weight={config.ssim_weight!r} needs frames of at least 11x11 "
                f"(SSIM's window), got size={config.size}"
            )
    family.check(config)  # the family's geometry (and task fields)
    allowed = DATA_CHANNELS.get(config.data, (1, 3))
    if config.channels not in allowed:
        raise ValueError(
            f"channels={config.channels} is not available for data={config.data!r}; "
            f"allowed: {', '.join(map(str, allowed))}"
        )
    if config.gp_weight and config.d_norm == "batch":
        raise ValueError(
            f"d_norm='batch' with gp_weight={config.gp_weight} is unsound "
            "(batch statistics mix the samples the penalty treats separately); use 'layer' or 'none'"
        )
    if config.data not in DATA and not family.task:
        if not isinstance(config.data_stride, int) or config.data_stride < 1:
            raise ValueError(f"data_stride={config.data_stride!r} must be a positive integer")
        _choice("data_start", config.data_start, data_lib.START_MODES)
        _choice("data_resize", config.data_resize, data_lib.RESIZE_MODES)
    run_data = open_data(config)
    if config.data not in DATA and not family.task:
        found = len(run_data.class_names)
        if num_classes and found != num_classes:
            raise ValueError(
                f"num_classes={num_classes} does not match data={config.data!r}, which has "
                f"{found} classes (sub-folders root/<class>/<video>)"
                if found
                else f"num_classes={num_classes} needs labels and data={config.data!r} has none "
                "(class labels come from sub-folders: root/<class>/<video>)"
            )
    return run_data


def _check_eval(config):
    """The periodic evaluation fields (``eval_every``, ``eval_clips``); one-line ValueError."""
    for name, low in (("eval_every", 0), ("eval_clips", 2)):
        _check_int(name, getattr(config, name), low)
    if config.eval_every and config.family.task:
        raise ValueError(
            f"eval_every scores unconditional samples; model={config.model!r} is a task model"
        )
    if config.eval_every and config.frames < 16:
        raise ValueError(
            f"eval_every={config.eval_every} needs frames >= 16 (the offline metric's clip "
            f"length), got frames={config.frames}"
        )


def _check_generator_options(config, family):
    """``g_width`` / ``g_upsample``: valid, and set only for a family whose generator reads them."""
    _check_int("g_width", config.g_width, 0, "0 (= width) or the generator's finest width")
    _choice("g_upsample", config.g_upsample, UPSAMPLING)
    for name in registry.GENERATOR_OPTIONS:
        value = getattr(config, name)
        if value != _FIELDS[name].default and name not in family.generator_options:
            takers = ", ".join(f.name for f in registry.families() if name in f.generator_options)
            raise ValueError(
                f"{name}={value!r} is an option of {takers}, not of model={config.model!r}"
            )


MOCOGAN_D = ("mocogan", "mocogan_layers")  # the families with MoCoGAN's D_I and D_V


def _check_mocogan_options(config):
    _check_int("d_mbstd", config.d_mbstd, 0, "0 (off) or a group size")
    if config.d_mbstd and config.model not in MOCOGAN_D:
        raise ValueError(f"d_mbstd={config.d_mbstd} is an option of mocogan and mocogan_layers")
    if config.d_mbstd and config.batch_size % config.d_mbstd:
        raise ValueError(
            f"d_mbstd={config.d_mbstd} must divide batch_size={config.batch_size} "
            "(each group holds frames of that many clips)"
        )
    k = config.d_video_downsample
    _check_int("d_video_downsample", k, 1, "a positive integer (1 = full resolution)")
    if k > 1 and config.model not in MOCOGAN_D:
        raise ValueError(f"d_video_downsample={k} is an option of mocogan and mocogan_layers")
    if k > 1 and (config.size % k or (config.size // k) % 2**config.depth):
        raise ValueError(
            f"d_video_downsample={k}: size={config.size} / {k} must be a multiple of "
            f"2**depth={2**config.depth} (D_V's levels)"
        )
    n = config.d_image_frames
    _check_int("d_image_frames", n, 0, "0 (the family's default) or a number of frames")
    if n and config.model not in MOCOGAN_D:
        raise ValueError(f"d_image_frames={n} is an option of mocogan and mocogan_layers")
    if n > config.frames:
        raise ValueError(f"d_image_frames={n} must be <= frames={config.frames}")
    value = config.sprite_size
    _check_int("sprite_size", value, 0, "0 (full-canvas layers) or a side in pixels")
    if value and config.model != "mocogan_layers":
        raise ValueError(f"sprite_size={value} is an option of model='mocogan_layers' only")
    if value > config.size:
        raise ValueError(f"sprite_size={value} must be at most size={config.size}")
    if value % 2**config.depth:
        raise ValueError(
            f"sprite_size={value} must be a multiple of 2**depth={2**config.depth} "
            "(its generator has the frames' depth)"
        )


def _check_sparse(config):
    """``sparse_frames``, ``max_frame_distance``, ``r1_interval``; one-line ValueError."""
    _check_int("r1_interval", config.r1_interval, 1)
    _check_int("sparse_frames", config.sparse_frames, 0)
    _check_int("max_frame_distance", config.max_frame_distance, 0)
    k = config.sparse_frames
    if not k:
        if config.max_frame_distance:
            raise ValueError(
                f"max_frame_distance={config.max_frame_distance} needs sparse_frames > 0"
            )
        return
    if not config.family.timestamps:
        raise ValueError(
            f"sparse_frames={k} needs a model that takes timestamps (e.g. stylegan_v); "
            f"model={config.model!r} does not"
        )
    if k > config.frames:
        raise ValueError(f"sparse_frames={k} must be <= frames={config.frames}")
    if config.max_frame_distance and config.max_frame_distance < k - 1:
        raise ValueError(
            f"max_frame_distance={config.max_frame_distance} must be >= sparse_frames - 1 "
            f"= {k - 1} (K distinct frames within it)"
        )


def frames_not_judged(config):
    """The leading frames of the discriminator's view that ``d_frames`` never samples:
    a predictor's context (real in both views of the ``"time"`` condition), else 0."""
    family = config.family
    return config.context_frames if family.task and family.condition == "time" else 0


def _check_frame_discriminator(config):
    """``d_frames``: 0, or 1..the judged frames, for a video GAN trained on whole clips
    or an adversarial task whose discriminator sees the clip (``"time"``, ``"none"``)."""
    _check_int("d_frames", config.d_frames, 0)
    if not config.d_frames:
        return
    family = config.family
    if family.task:
        if family.build_model is not None or family.condition not in ("time", "none"):
            raise ValueError(
                f"d_frames={config.d_frames} needs a task whose discriminator sees the clip "
                f"(condition 'time' or 'none'); model={config.model!r} is not one"
            )
        if not config.adv_weight:
            raise ValueError(
                f"d_frames={config.d_frames} needs adv_weight > 0 (with adv_weight=0 the "
                f"task trains no discriminator)"
            )
    elif family.build_model is not None or config.sparse_frames:
        raise ValueError(
            f"d_frames={config.d_frames} needs a video GAN family trained on whole clips "
            f"(engine.VideoGAN, sparse_frames=0); model={config.model!r} is not one"
        )
    skip = frames_not_judged(config)
    if config.d_frames > config.frames - skip:
        what = "frames - context_frames" if skip else "frames"
        raise ValueError(f"d_frames={config.d_frames} must be <= {what}={config.frames - skip}")


def _check_motion(config):
    """``d_motion``, ``flow_weight``, ``flow_method``; one-line ValueError."""
    from keras_vgan import motion  # noqa: PLC0415  (OpenCV only when a config is checked)

    _choice("d_motion", config.d_motion, ("",) + motion.MOTION_INPUTS)
    family = config.family
    if config.d_motion and (family.task or family.build_model is not None):
        raise ValueError(
            f"d_motion={config.d_motion!r} needs a video GAN family (engine.VideoGAN); "
            f"model={config.model!r} is not one"
        )
    if config.d_motion == "flow" and config.size % 4:
        raise ValueError(f"d_motion='flow' needs size a multiple of 4, got size={config.size}")
    if config.flow_weight < 0:
        raise ValueError(f"flow_weight={config.flow_weight!r} must be >= 0")
    _choice("flow_method", config.flow_method, motion.FLOW_METHODS)
    if config.flow_weight and family.task != "translation":
        raise ValueError(
            f"flow_weight={config.flow_weight} needs a translation model, not {config.model!r}"
        )
    if config.flow_weight and config.flow_method == "spynet" and config.size % 4:
        raise ValueError(f"flow_method='spynet' needs size a multiple of 4, got {config.size}")


def _check_data_name(data):
    """A built-in name, ``tfds:NAME`` or an existing path; one-line ValueError otherwise."""
    if not isinstance(data, str) or not data:
        raise ValueError(f"data={data!r} must be a built-in name, a path or tfds:NAME")
    if data in DATA or data.startswith("tfds:"):
        return
    if not os.path.exists(os.path.expanduser(data)):
        raise ValueError(
            f"data={data!r} is neither a built-in data set ({', '.join(DATA)}), "
            "tfds:NAME nor an existing path"
        )
