"""``python -m export.client``: ask a running TF Serving for clips (gRPC or REST).

    python -m export.client --grpc localhost:8500 --model vgan_gan --seed 3 --count 4
    python -m export.client --rest http://localhost:8501 --model vgan_gan --seed 3 --count 4

Uses the ``generate_seeded`` signature (the server draws the noise), so the
client needs no model files; writes ``grid.gif`` and ``contact_sheet.png``
into ``--out``. Needs ``tensorflow-serving-api`` for gRPC (install it with
``pip install --no-deps tensorflow-serving-api``). A server that cannot be
reached is one line on stderr and exit status 1; bad flags exit 2.
"""

import os
import sys

from training.program import EXIT_FAILED, Parser, quiet_tensorflow


def main(argv=None):
    p = Parser(prog="python -m export.client", description=__doc__.splitlines()[0])
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--grpc", help="host:port of the gRPC endpoint (default port 8500)")
    where.add_argument("--rest", help="http://host:port of the REST endpoint (8501)")
    p.add_argument("--model", required=True, help="served model name (MODEL_NAME)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--count", type=int, default=4)
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("--out", default="served")
    args, status = p.parse_or_status(argv)
    if args is None:
        return status
    if args.count < 1:
        return p.fail(f"--count {args.count} must be >= 1")
    if not 0 <= args.seed < 2**31:
        return p.fail(f"--seed {args.seed} must be in [0, 2**31)")

    with quiet_tensorflow():
        import numpy as np

        from keras_vgan import video_io
        from keras_vgan.export import tf_serving

    inputs = {"seed": np.int32(args.seed), "count": np.int32(args.count)}
    try:
        if args.grpc:
            request = tf_serving.predict_request(args.model, "generate_seeded", inputs)
            response = tf_serving.predict_grpc(args.grpc, request, timeout=args.timeout)
            video = tf_serving.response_arrays(response)["video"]
        else:
            body = tf_serving.rest_body("generate_seeded", inputs)
            reply = tf_serving.predict_rest(args.rest, args.model, body, timeout=args.timeout)
            video = np.asarray(reply["outputs"], np.float32)
    except Exception as e:  # unreachable server, unknown model: one line
        first = f"{type(e).__name__}: {(str(e).strip().splitlines() or [''])[0]}"
        if hasattr(e, "code") and hasattr(e, "details"):  # a grpc.RpcError
            first = f"gRPC {e.code().name}: {(e.details() or '').splitlines()[0]}"
        print(f"{p.prog}: {first}", file=sys.stderr)
        return EXIT_FAILED
    pixels = video_io.to_uint8(video)
    video_io.write_gif(os.path.join(args.out, "grid.gif"), video_io.video_grid(pixels))
    video_io.write_png(os.path.join(args.out, "contact_sheet.png"), video_io.contact_sheet(pixels))
    print(f"{len(pixels)} clips {pixels.shape[1:]} -> {args.out}/grid.gif, contact_sheet.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
