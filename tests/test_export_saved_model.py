"""SavedModel export: signatures checked with TensorFlow's own saved_model_cli, outputs
equal to the Keras model's, TF Serving requests (gRPC and REST) validated and executed."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from keras_vgan import video_io
from keras_vgan.export import endpoints, export_saved_model, tf_serving
from tests.helpers import (
    CLASSES,
    LATENT,
    SIZE,
    labels_for,
    noise,
    reference,
    run_export_test,
    tiny_gan,
)
from tests.helpers import EXPORT_FRAMES as FRAMES

CLI = shutil.which("saved_model_cli") or os.path.join(
    os.path.dirname(sys.executable), "saved_model_cli"
)


def saved_model_cli(*args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    done = subprocess.run([CLI, *args], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.slow  # 10-15 s; keeps the default suite under 15 min on 2 cores
def test_saved_model_cli_shows_the_signatures_and_runs_them_like_keras(tmp_path):
    gan = tiny_gan("vgan")
    path = export_saved_model(gan, str(tmp_path / "vgan" / "1"))
    shown = saved_model_cli("show", "--dir", path, "--all")
    for name in ("serving_default", "generate_uint8", "generate_seeded"):
        assert f"signature_def['{name}']" in shown
    default = shown.split("signature_def['serving_default']")[1].split("signature_def[")[0]
    assert "inputs['z'] tensor_info:" in default and f"shape: (-1, {LATENT})" in default
    assert "outputs['video'] tensor_info:" in default and "DT_FLOAT" in default
    assert f"shape: (-1, {FRAMES}, {SIZE}, {SIZE}, 1)" in default
    seeded = shown.split("signature_def['generate_seeded']")[1].split("signature_def[")[0]
    assert "inputs['seed']" in seeded and "inputs['count']" in seeded and "DT_INT32" in seeded

    z = noise(gan, 3)
    np.save(tmp_path / "z.npy", z)
    out = tmp_path / "out"
    saved_model_cli(
        "run", "--dir", path, "--tag_set", "serve", "--signature_def", "serving_default",
        "--inputs", f"z={tmp_path / 'z.npy'}", "--outdir", str(out), "--overwrite",
    )  # fmt: skip
    np.testing.assert_allclose(np.load(out / "video.npy"), reference(gan, z), atol=1e-6)
    np.save(tmp_path / "seed.npy", np.int32(5))
    np.save(tmp_path / "count.npy", np.int32(2))
    saved_model_cli(
        "run", "--dir", path, "--tag_set", "serve", "--signature_def", "generate_seeded",
        "--inputs", f"seed={tmp_path / 'seed.npy'};count={tmp_path / 'count.npy'}",
        "--outdir", str(out), "--overwrite",
    )  # fmt: skip
    np.testing.assert_allclose(
        np.load(out / "video.npy"), np.asarray(gan.generate(num=2, seed=5)), atol=1e-6
    )


def test_conditional_signatures_equal_the_keras_model(tmp_path):
    gan = tiny_gan("mocogan", CLASSES)  # GRU traced unrolled; class label input
    path = export_saved_model(gan, str(tmp_path / "m" / "1"))
    loaded = tf.saved_model.load(path)
    sigs = loaded.signatures
    assert set(sigs) == {"serving_default", "generate_uint8", "generate_seeded", "generate"}
    z, labels = noise(gan, 3), np.array([0, 9, 4], "int32")
    video = sigs["generate"](z=tf.constant(z), label=tf.constant(labels))["video"].numpy()
    np.testing.assert_allclose(video, reference(gan, z, labels), atol=1e-6)
    # serving_default cycles the classes, as VideoGAN.generate does without labels.
    default = sigs["serving_default"](z=tf.constant(z))["video"].numpy()
    np.testing.assert_allclose(default, reference(gan, z, np.arange(3) % CLASSES), atol=1e-6)
    pixels = sigs["generate_uint8"](z=tf.constant(z))["video"].numpy()
    assert pixels.dtype == np.uint8
    np.testing.assert_array_equal(pixels, video_io.to_uint8(default))
    seeded = sigs["generate_seeded"](seed=tf.constant(7), count=tf.constant(2))["video"]
    np.testing.assert_allclose(seeded.numpy(), np.asarray(gan.generate(num=2, seed=7)), atol=1e-6)
    meta = json.loads((tmp_path / "m" / "1" / "assets.extra" / "keras_vgan.json").read_text())
    assert meta["num_classes"] == CLASSES and meta["latent_dim"] == gan.latent_dim
    assert meta["endpoints"]["generate"]["inputs"]["label"] == {"dtype": "int32", "shape": [None]}


def test_resize_upsampling_generator_serves_like_keras(tmp_path):
    """``g_upsample="resize"`` (nearest x2 + 3x3 convolutions) in the default signature."""
    gan = tiny_gan("mocogan_layers", g_upsample="resize")
    path = export_saved_model(gan, str(tmp_path / "r" / "1"))
    z = noise(gan, 3)
    video = tf.saved_model.load(path).signatures["serving_default"](z=tf.constant(z))["video"]
    np.testing.assert_allclose(video.numpy(), reference(gan, z), atol=1e-6)


def test_grpc_request_and_rest_body_validate_against_the_signature(tmp_path):
    from tensorflow_serving.apis import predict_pb2

    gan = tiny_gan("vgan", CLASSES)
    path = export_saved_model(gan, str(tmp_path / "vgan" / "1"))
    defs = tf_serving.signature_defs(path)
    z, labels = noise(gan, 2), labels_for(gan, 2)

    request = tf_serving.predict_request("vgan", "generate", {"z": z, "label": labels}, version=1)
    wire = predict_pb2.PredictRequest.FromString(request.SerializeToString())
    assert wire.model_spec.name == "vgan" and wire.model_spec.version.value == 1
    tf_serving.validate_request(defs, wire)
    response = tf_serving.run_request(path, wire)
    video = tf_serving.response_arrays(response)["video"]
    np.testing.assert_allclose(video, reference(gan, z, labels), atol=1e-6)

    seeded = tf_serving.predict_request(
        "vgan", "generate_seeded", {"seed": np.int32(3), "count": np.int32(2)}
    )
    tf_serving.validate_request(defs, seeded)
    bad = [
        (("generate", {"z": z}), "needs input(s) ['label']"),
        (("serving_default", {"z": z, "label": labels}), "has no input(s) ['label']"),
        (
            ("serving_default", {"z": z.astype("float64")}),
            "is float64; the signature expects float32",
        ),
        (("serving_default", {"z": z[:, :3]}), "has shape [2, 3]; the signature expects [None, 8]"),
        (("generate_seeded", {"seed": np.int64(3), "count": np.int32(2)}), "is int64"),
        (("nope", {"z": z}), "signature 'nope' is not exported"),
    ]
    for (signature, inputs), message in bad:
        with pytest.raises(ValueError, match=None) as info:
            tf_serving.validate_request(defs, tf_serving.predict_request("vgan", signature, inputs))
        assert message in str(info.value), str(info.value)

    body = json.dumps(tf_serving.rest_body("generate", {"z": z, "label": labels}))
    feeds = tf_serving.validate_rest_body(defs, body)
    assert feeds["label"].dtype == np.int32 and feeds["z"].shape == (2, LATENT)
    out = tf.saved_model.load(path).signatures["generate"](
        **{k: tf.constant(v) for k, v in feeds.items()}
    )
    np.testing.assert_allclose(out["video"].numpy(), reference(gan, z, labels), atol=1e-5)
    tf_serving.validate_rest_body(
        defs, {"signature_name": "generate_seeded", "inputs": {"seed": 3, "count": 2}}
    )
    bad_bodies = [
        (
            {"signature_name": "generate_seeded", "inputs": {"seed": 3.5, "count": 2}},
            "holds float64",
        ),
        ({"inputs": {"z": [[0.0] * 3]}}, "has shape [1, 3]"),
        ({"inputs": {"z": [[0.0] * 8, [0.0]]}}, "ragged"),
        ({"signature_name": "generate", "inputs": {"z": z.tolist()}}, "needs input(s) ['label']"),
        ({"instances": []}, "no 'inputs'"),
    ]
    for body, message in bad_bodies:
        with pytest.raises(ValueError) as info:
            tf_serving.validate_rest_body(defs, body)
        assert message in str(info.value), str(info.value)


def test_task_model_gets_a_named_endpoint(tmp_path):
    from keras_vgan.layers import ClipDiscriminator
    from keras_vgan.models.prediction import Conv3DPredictor
    from keras_vgan.tasks import VideoTaskGAN

    predictor = Conv3DPredictor(3, 3, size=16, channels=1, widths=(4, 8), translator_width=4)
    model = VideoTaskGAN(predictor, ClipDiscriminator(6, 16, 1, (4, 8)), condition="time")
    assert set(endpoints.endpoints_of(model)) == {"serving_default", "predict"}
    frames = np.random.default_rng(0).uniform(-1, 1, (2, 3, 16, 16, 1)).astype("float32")
    run_export_test(model, tmp_path, "saved_model", frames, 1e-6, endpoint="predict")


def test_client_reports_an_unreachable_server_in_one_line(capsys):
    from export.client import main as client_main

    for where, message in (
        (["--grpc", "127.0.0.1:9"], "gRPC UNAVAILABLE"),
        (["--rest", "http://127.0.0.1:9"], "URLError"),
    ):
        assert client_main([*where, "--model", "m", "--timeout", "5"]) == 1
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
    assert client_main(["--grpc", "h:1", "--model", "m", "--count", "0"]) == 2
