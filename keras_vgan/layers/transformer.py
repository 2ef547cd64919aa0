"""What the token transformers share: embeddings of a video's token grid, pre-norm blocks
on ``keras.layers.MultiHeadAttention``, and the class token.

A token grid ``[B, t, h, w]`` (a tokenizer's codes) is flattened row-major to a sequence
``[B, L]``, ``L = t * h * w`` (time slowest): the first ``t_c * h * w`` entries are the
first ``t_c`` token frames, which is what prediction from context keeps fixed.

* ``GridPositionEmbedding``: factorised 3D positions (a learned code per time step,
  row and column, summed; VideoGPT's and ViViT's form), ``t + h + w`` codes for
  ``L`` positions;
* ``CachedMultiHeadAttention``: ``MultiHeadAttention`` with an optional key/value cache
  for incremental (token by token) decoding, in the manner of keras-hub's layer of the
  same name; the cache is updated by a one-hot select rather than a dynamic slice update,
  so the decoding loop stays LiteRT builtins and ONNX ops;
* ``TransformerBlock``: pre-norm (GPT-2 / ViT) ``x + MHA(LN(x))``, ``x + MLP(LN(x))``,
  with an attention mask (``[B, L, L]`` boolean, or ``causal=True``) and a cached
  ``step`` for one position at a time;
* ``ClassToken``: one learned code per class plus one for "no class", prepended to the
  sequence (BERT's [CLS], and the start token of an autoregressive model): class
  conditioning with a single extra position.
"""

import keras
from keras import ops

from keras_vgan.layers.checks import check_positive


def causal_mask(length):
    """``[1, L, L]`` boolean: position ``i`` attends to positions ``<= i``."""
    i = ops.arange(length)
    return ops.expand_dims(i[:, None] >= i[None, :], 0)


@keras.saving.register_keras_serializable(package="keras_vgan")
class GridPositionEmbedding(keras.layers.Layer):
    """Factorised position codes of a ``(t, h, w)`` grid: ``pos_t + pos_h + pos_w``.

    Call: ``x`` ``[B, L, dim]`` (``L = t * h * w``, row-major) -> ``x`` plus the codes;
    ``codes()`` gives the ``[L, dim]`` table itself.

    Args:
        grid: ``(t, h, w)``.
        dim: code size.
    """

    def __init__(self, grid, dim, **kwargs):
        super().__init__(**kwargs)
        grid = tuple(int(g) for g in grid)
        if len(grid) != 3:
            raise ValueError(f"grid={grid!r} must be (t, h, w)")
        check_positive(t=grid[0], h=grid[1], w=grid[2], dim=dim)
        self.grid = grid
        self.dim = int(dim)

    def build(self, input_shape=None):
        init = keras.initializers.RandomNormal(stddev=0.02)
        self.tables = [
            self.add_weight(shape=(n, self.dim), initializer=init, name=f"pos_{axis}")
            for n, axis in zip(self.grid, "thw", strict=True)
        ]
        self.built = True

    @property
    def length(self):
        t, h, w = self.grid
        return t * h * w

    def codes(self):
        """``[L, dim]``: the code of every position, row-major."""
        t, h, w = self.grid
        pt, ph, pw = self.tables
        grid = pt[:, None, None] + ph[None, :, None] + pw[None, None, :]
        return ops.reshape(grid, (t * h * w, self.dim))

    def call(self, x):
        return x + ops.cast(self.codes(), x.dtype)[None]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(grid=list(self.grid), dim=self.dim)
        return config


@keras.saving.register_keras_serializable(package="keras_vgan")
class CachedMultiHeadAttention(keras.layers.MultiHeadAttention):
    """``MultiHeadAttention`` that can attend from one new position over a key/value cache.

    Without ``cache`` it is ``MultiHeadAttention``. With ``cache`` ``[B, 2, S, heads,
    key_dim]`` (keys, values of every position; zeros where not yet written) and
    ``cache_index`` (the position of ``query``), the key and value of the new position
    are projected, written into the cache at ``cache_index`` and the query attends over
    the cache under ``attention_mask`` (``[B, 1, S]``: the written positions); returns
    ``(output, cache)``.
    """

    def call(self, query, value, key=None, attention_mask=None, cache=None, cache_index=None,
             training=None, **kwargs):  # fmt: skip
        if cache is None:
            return super().call(
                query, value, key=key, attention_mask=attention_mask, training=training, **kwargs
            )
        key = value if key is None else key
        q = self._query_dense(query)
        k_new, v_new = self._key_dense(key), self._value_dense(value)  # [B, 1, heads, d]
        # One-hot select of the row to write: plain elementwise ops (no dynamic slice).
        at = ops.arange(cache.shape[2]) == cache_index
        at = ops.reshape(at, (1, -1, 1, 1))
        k = ops.where(at, k_new, cache[:, 0])
        v = ops.where(at, v_new, cache[:, 1])
        out, _ = self._compute_attention(q, k, v, attention_mask, training)
        return self._output_dense(out), ops.stack([k, v], axis=1)


@keras.saving.register_keras_serializable(package="keras_vgan")
class TransformerBlock(keras.layers.Layer):
    """A pre-norm transformer block: ``x + MHA(LN(x))``, then ``x + MLP(LN(x))``.

    Call: ``x`` ``[B, L, dim]`` (``attention_mask`` boolean ``[B or 1, L, L]``, or
    ``causal=True``) -> ``[B, L, dim]``. ``step(x, cache, index, attention_mask)``: one
    position ``x`` ``[B, 1, dim]`` at ``index`` against the cache of the earlier ones ->
    ``(y, cache)`` (``empty_cache(batch, length)`` starts one).

    Args:
        dim: model width; ``heads`` must divide it.
        heads: attention heads.
        mlp_ratio: the MLP's hidden width over ``dim``.
        dropout: dropout rate of the attention weights and of both residual branches.
    """

    def __init__(self, dim, heads, mlp_ratio=4, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        check_positive(dim=dim, heads=heads, mlp_ratio=mlp_ratio)
        if dim % heads:
            raise ValueError(f"dim={dim} must be a multiple of heads={heads}")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout={dropout!r} must be in [0, 1)")
        self.dim = int(dim)
        self.heads = int(heads)
        self.mlp_ratio = int(mlp_ratio)
        self.dropout = float(dropout)
        self.norm_1 = keras.layers.LayerNormalization(epsilon=1e-5, name="norm_1")
        self.attention = CachedMultiHeadAttention(
            self.heads, self.dim // self.heads, dropout=self.dropout, name="attention"
        )
        self.norm_2 = keras.layers.LayerNormalization(epsilon=1e-5, name="norm_2")
        self.mlp_in = keras.layers.Dense(self.dim * self.mlp_ratio, name="mlp_in")
        self.mlp_out = keras.layers.Dense(self.dim, name="mlp_out")
        self.drop = keras.layers.Dropout(self.dropout)

    def build(self, input_shape):
        self.norm_1.build(input_shape)
        self.attention.build(input_shape, input_shape)
        self.norm_2.build(input_shape)
        self.mlp_in.build(input_shape)
        self.mlp_out.build(tuple(input_shape[:-1]) + (self.dim * self.mlp_ratio,))
        self.built = True

    def _mlp(self, x, training):
        # GELU's tanh form (GPT-2's): exact GELU needs erf, which neither LiteRT nor ONNX has.
        h = self.mlp_out(keras.activations.gelu(self.mlp_in(self.norm_2(x)), approximate=True))
        return x + self.drop(h, training=training)

    def call(self, x, attention_mask=None, causal=False, training=False):
        if causal:
            mask = causal_mask(x.shape[1])
            attention_mask = mask if attention_mask is None else attention_mask & mask
        h = self.norm_1(x)
        h = self.attention(h, h, attention_mask=attention_mask, training=training)
        return self._mlp(x + self.drop(h, training=training), training)

    def empty_cache(self, batch, length):
        """Zero keys and values ``[batch, 2, length, heads, dim / heads]``."""
        return ops.zeros((batch, 2, length, self.heads, self.dim // self.heads))

    def step(self, x, cache, index, attention_mask, training=False):
        """One position ``x`` ``[B, 1, dim]`` at ``index``; ``attention_mask`` ``[B, 1, S]``
        (the positions it sees, itself included) -> ``(y [B, 1, dim], cache)``."""
        h = self.norm_1(x)
        h, cache = self.attention(
            h, h, attention_mask=attention_mask, cache=cache, cache_index=index, training=training
        )
        return self._mlp(x + self.drop(h, training=training), training), cache

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            dim=self.dim, heads=self.heads, mlp_ratio=self.mlp_ratio, dropout=self.dropout
        )
        return config


@keras.saving.register_keras_serializable(package="keras_vgan")
class ClassToken(keras.layers.Layer):
    """The code of a sequence's first position: one per class, and one for no class.

    Call: ``labels`` int ``[B]`` (or None: the "no class" code, with ``batch=``) ->
    ``[B, 1, dim]``. With ``num_classes = 0`` it is a single learned start code.

    Args:
        num_classes: classes (0: unconditional).
        dim: code size.
    """

    def __init__(self, num_classes, dim, **kwargs):
        super().__init__(**kwargs)
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 0:
            raise ValueError(f"num_classes={num_classes!r} must be an integer >= 0")
        check_positive(dim=dim)
        self.num_classes = int(num_classes)
        self.dim = int(dim)
        self.table = keras.layers.Embedding(
            self.num_classes + 1,
            self.dim,
            embeddings_initializer=keras.initializers.RandomNormal(stddev=0.02),
            name="codes",
        )

    def build(self, input_shape=None):
        self.table.build((None,))
        self.built = True

    def call(self, labels=None, batch=None):
        if labels is None:
            if batch is None:
                raise ValueError("ClassToken needs labels or batch=")
            ids = ops.full((batch,), self.num_classes, "int32")
        else:
            ids = ops.reshape(ops.cast(labels, "int32"), (-1,))
        return self.table(ids)[:, None]

    def get_config(self):
        config = super().get_config()
        config.update(num_classes=self.num_classes, dim=self.dim)
        return config


class TokenTransformer(keras.Model):
    """What the token models (MaskGIT, VideoGPT) share: embeddings, blocks, head, geometry.

    A sequence is ``[class token] + L token codes`` (MaskGIT) or the class token as the
    start of the shifted sequence (VideoGPT); the subclass's ``call`` arranges it. The
    clip geometry (``frames``, ``size``, ``channels``, ``context_frames``) is the
    tokenizer's, kept here as serving facts: what a prediction endpoint takes
    (``serving_input_shape``) and how many leading tokens ``context_frames`` fix.

    Args:
        grid: ``(t, h, w)``, the tokenizer's token grid of one clip.
        vocab_size: the codebook size ``V``; the head has ``V`` logits.
        dim, depth, heads, mlp_ratio, dropout: the transformer (``TransformerBlock``).
        num_classes: > 0: class-conditional (``labels=`` required).
        frames, size, channels: the clip the grid decodes to.
        context_frames: the frames of context of a prediction (0: none).
        extra_tokens: token ids past ``V`` the inputs may hold (MaskGIT's mask id).
    """

    def _setup(self, grid, vocab_size, dim, depth, heads, mlp_ratio, dropout, num_classes,
               frames, size, channels, context_frames, extra_tokens=0):  # fmt: skip
        grid = tuple(int(g) for g in grid)
        if len(grid) != 3:
            raise ValueError(f"grid={grid!r} must be (t, h, w)")
        check_positive(t=grid[0], h=grid[1], w=grid[2], vocab_size=vocab_size, depth=depth,
                       frames=frames, size=size, channels=channels)  # fmt: skip
        if frames % grid[0]:
            raise ValueError(f"frames={frames} must be a multiple of the grid's t={grid[0]}")
        stride = frames // grid[0]
        if context_frames < 0 or context_frames >= frames or context_frames % stride:
            raise ValueError(
                f"context_frames={context_frames} must be a multiple of {stride} (frames per "
                f"token frame) in [0, frames={frames})"
            )
        self.grid = grid
        self.vocab_size = int(vocab_size)
        self.dim, self.depth, self.heads = int(dim), int(depth), int(heads)
        self.mlp_ratio, self.dropout = int(mlp_ratio), float(dropout)
        self.num_classes = int(num_classes)
        self.frames, self.size, self.channels = int(frames), int(size), int(channels)
        self.context_frames = int(context_frames)
        self.token_embedding = keras.layers.Embedding(
            self.vocab_size + extra_tokens,
            self.dim,
            embeddings_initializer=keras.initializers.RandomNormal(stddev=0.02),
            name="token_embedding",
        )
        self.class_token = ClassToken(self.num_classes, self.dim, name="class_token")
        self.positions = GridPositionEmbedding(grid, self.dim, name="positions")
        self.blocks = [
            TransformerBlock(self.dim, self.heads, self.mlp_ratio, self.dropout, name=f"block_{i}")
            for i in range(self.depth)
        ]
        self.final_norm = keras.layers.LayerNormalization(epsilon=1e-5, name="final_norm")
        self.head = keras.layers.Dense(self.vocab_size, name="head")

    # ------------------------------------------------------------ geometry
    @property
    def length(self):
        """``L = t * h * w``, the tokens of one clip."""
        t, h, w = self.grid
        return t * h * w

    @property
    def tokens_per_frame(self):
        """Tokens per video frame (for NLL per frame): ``L / frames``."""
        return self.length / self.frames

    @property
    def context_tokens(self):
        """The leading tokens that ``context_frames`` fix."""
        t, h, w = self.grid
        return self.context_frames * t // self.frames * h * w

    def token_grid(self, frames=None):
        """``(t', h, w)`` of ``frames`` video frames (default: the clip's)."""
        t, h, w = self.grid
        frames = self.frames if frames is None else frames
        return (frames * t // self.frames, h, w)

    @property
    def target_frames(self):
        return self.frames - self.context_frames

    @property
    def serving_input_shape(self):
        """``(K, H, W, C)`` of one context clip (the ``predict`` endpoints')."""
        return (self.context_frames, self.size, self.size, self.channels)

    def noise_steps(self, horizon=None):
        """Serving's noise layout ``[B, noise_steps, z_dim]``: one row of ``noise_size``."""
        return 1

    @property
    def z_dim(self):
        return self.noise_size

    # ------------------------------------------------------------- pieces
    def check_tokens(self, tokens, name="tokens", length=None):
        """One-line ValueError unless ``tokens`` is an integer ``[B, length]``."""
        length = self.length if length is None else length
        shape = tuple(tokens.shape)
        if len(shape) != 2 or shape[1] != length:
            raise ValueError(f"{name} has shape {shape}; expected [B, {length}]")
        if not keras.backend.standardize_dtype(tokens.dtype).startswith(("int", "uint")):
            raise ValueError(f"{name} has dtype {tokens.dtype}; expected integer token ids")

    def start_code(self, labels, batch):
        """The class token ``[B, 1, dim]`` (labels required when class-conditional)."""
        if self.num_classes:
            if labels is None:
                raise ValueError(
                    f"this token model is class-conditional (num_classes={self.num_classes}): "
                    "pass labels= (int class ids [B])"
                )
            return self.class_token(labels)
        return self.class_token(None, batch=batch)

    def body(self, x, causal=False, training=False):
        """The blocks, the final norm and the head: ``[B, S, dim]`` -> logits ``[B, S, V]``."""
        for block in self.blocks:
            x = block(x, causal=causal, training=training)
        return self.head(self.final_norm(x))

    def build(self, input_shape=None):
        labels = ops.zeros((1,), "int32") if self.num_classes else None
        # call, not __call__: __call__ would build again. One clip creates every weight.
        self.call(ops.zeros((1, self.length), "int32"), labels=labels)
        self.built = True

    def _base_config(self):
        return dict(
            grid=list(self.grid),
            vocab_size=self.vocab_size,
            dim=self.dim,
            depth=self.depth,
            heads=self.heads,
            mlp_ratio=self.mlp_ratio,
            dropout=self.dropout,
            num_classes=self.num_classes,
            frames=self.frames,
            size=self.size,
            channels=self.channels,
            context_frames=self.context_frames,
        )
