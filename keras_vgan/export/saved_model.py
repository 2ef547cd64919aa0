"""SavedModel export for TF Serving: one signature per endpoint of ``export.endpoints``.

The directory written is a version directory (``models/<name>/<version>/``,
the layout TF Serving watches). Besides the graph and variables it holds
``assets.extra/keras_vgan.json`` (``endpoints.metadata``: latent size, classes,
clip shape, signatures), which TF Serving ignores and the generate program
reads.
"""

import json
import os
import shutil

import keras

from keras_vgan.export import endpoints

METADATA_FILE = os.path.join("assets.extra", "keras_vgan.json")


def select_endpoints(model, fmt, names=None):
    """The endpoints of ``model`` carried by format ``fmt`` (optionally only ``names``)."""
    eps = [ep for ep in endpoints.endpoints_of(model).values() if fmt in ep.formats]
    if names is not None:
        unknown = sorted(set(names) - {ep.name for ep in eps})
        if unknown:
            have = ", ".join(ep.name for ep in eps)
            raise ValueError(f"unknown endpoint(s) {unknown} for {fmt}; available: {have}")
        eps = [ep for ep in eps if ep.name in names]
    return eps


def build_archive(model, eps):
    """A ``keras.export.ExportArchive`` with one endpoint per ``Endpoint``.

    The model itself is not ``track``-ed: a Keras model carries a default
    signature ``self(inputs)`` that a conditional generator cannot trace
    without labels; ``add_endpoint`` tracks the variables each function uses.
    Call (and ``write_out``) inside ``endpoints.unrolled_rnns(model)``: tracing
    may happen at either.
    """
    archive = keras.export.ExportArchive()
    for ep in eps:
        archive.add_endpoint(ep.name, ep.fn, input_signature=list(ep.input_signature))
    return archive


def export_saved_model(model, path, endpoint_names=None, format="saved_model"):
    """Writes a SavedModel of ``model``'s EMA generator with named signatures.

    Args:
        model: a ``VideoGAN`` or ``VideoTaskGAN`` of a registered family, or a
            model with ``serving_endpoints()`` (see ``keras_vgan.export.endpoints``).
        path: the version directory to write, e.g. ``models/vgan/1``; written
            to ``path.partial`` first and renamed, so a crash leaves no
            half-written version for TF Serving to pick up.
        endpoint_names: only these endpoints (default: all that SavedModel
            carries).
        format: the format whose endpoints are written (``"litert"`` writes
            only the endpoints LiteRT can convert; used by the LiteRT export).

    Returns:
        ``path``.
    """
    eps = select_endpoints(model, format, endpoint_names)
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path.rstrip(os.sep) + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    with endpoints.unrolled_rnns(model):
        build_archive(model, eps).write_out(tmp, verbose=False)
    info = endpoints.metadata(model)
    info["endpoints"] = {k: v for k, v in info["endpoints"].items() if k in {e.name for e in eps}}
    os.makedirs(os.path.join(tmp, "assets.extra"), exist_ok=True)
    with open(os.path.join(tmp, METADATA_FILE), "w") as f:
        json.dump(info, f, indent=2)
    if os.path.exists(path):
        shutil.rmtree(path)
    os.replace(tmp, path)
    return path


def read_metadata(path):
    """``assets.extra/keras_vgan.json`` of a SavedModel written here, or None."""
    meta = os.path.join(path, METADATA_FILE)
    if not os.path.exists(meta):
        return None
    with open(meta) as f:
        return json.load(f)
