"""Folder walks follow symbolic links once: loops end, a file reached twice is read once.

Every tree here is written by the tests: real videos through OpenCV, real PNG frames,
and symbolic links between them (a loop, a link to a file, a link to a sibling folder,
a link out of the tree).
"""

import ast
import logging
import os

import numpy as np
import pytest

from keras_vgan import data, video_io
from keras_vgan.data import DataError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def video(path, offset=0, t=6):
    """A 6-frame 16x16 mp4 whose grey level tells it apart (10 + 30 * offset)."""
    frames = np.full((t, 16, 16, 3), 10 + 30 * offset, np.uint8)
    return video_io.write_mp4(str(path), frames)


def frame_folder(path, t=4):
    for k in range(t):
        video_io.write_png(str(path / f"{k:03d}.png"), np.full((16, 16, 3), 20 * k, np.uint8))
    return str(path)


def warnings_of(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "keras_vgan.data"]


def names(source, root):
    return [os.path.relpath(it.name, str(root)) for it in source.items]


def test_a_loop_is_walked_once_with_one_warning_line(tmp_path, caplog):
    caplog.set_level(logging.WARNING, "keras_vgan.data")
    root = tmp_path / "videos"
    video(root / "a.mp4")
    video(root / "loop" / "b.mp4", offset=1)
    (root / "loop" / "bad.mp4").write_bytes(b"not a video" * 10)
    os.symlink("..", root / "loop" / "up")  # loop/up -> videos/: a loop
    os.symlink(".", root / "self")  # a folder that leads to itself

    assert data.source_kind(str(root)) == "videos"  # ends
    source = data.VideoFiles(str(root), frames=4, size=8)
    assert names(source, root) == ["a.mp4", os.path.join("loop", "b.mp4")]  # each once
    lines = warnings_of(caplog)
    loops = [x for x in lines if "symlink loop" in x]
    assert len(loops) == 2 and all("\n" not in x for x in loops)
    assert any(f"{os.sep}loop{os.sep}up'" in x for x in loops)
    assert any(f"{os.sep}self'" in x for x in loops)
    bad = [x for x in lines if "bad.mp4" in x]
    assert len(bad) == 1 and bad[0].startswith("keras_vgan.data: skipping video '")
    assert source.skip_counts == {"not a video": 1}

    # Opening it again adds no loop line (a second source probes, and warns, anew).
    data.VideoFiles(str(root), frames=4, size=8)
    assert sum("symlink loop" in x for x in warnings_of(caplog)) == 2


def test_a_link_to_a_file_is_read_once_at_its_own_path(tmp_path, caplog):
    caplog.set_level(logging.WARNING, "keras_vgan.data")
    outside = tmp_path / "elsewhere"
    root = tmp_path / "videos"
    video(root / "real.mp4")
    os.symlink(root / "real.mp4", root / "alias.mp4")  # sorts first; same file
    (root / "sub").mkdir()
    os.symlink("../real.mp4", root / "sub" / "again.mp4")  # and once more, from below
    video(outside / "x.mp4", offset=2)
    os.symlink(outside / "x.mp4", root / "ext.mp4")  # a file out of the tree: kept
    os.link(root / "real.mp4", root / "zz_hard.mp4")  # a hard link is the same file too

    source = data.VideoFiles(str(root), frames=4, size=8)
    assert names(source, root) == ["ext.mp4", "real.mp4"]
    assert source.skip_counts == {} and not warnings_of(caplog)
    walked = {os.path.relpath(f, str(root)): n for f, n in data.walk_folders(str(root))}
    assert walked == {".": ["ext.mp4", "real.mp4"], "sub": []}


def test_a_link_to_a_sibling_folder_is_walked_once(tmp_path, caplog):
    caplog.set_level(logging.WARNING, "keras_vgan.data")
    root = tmp_path / "classes"
    video(root / "jump" / "v0.mp4")
    video(root / "run" / "v1.mp4", offset=1)
    os.symlink("jump", root / "a_jump_again")  # a sibling: walked as jump/ only
    outside = tmp_path / "walk_videos"
    video(outside / "v2.mp4", offset=2)
    os.symlink(outside, root / "walk")  # a class folder out of the tree: followed

    source = data.VideoFiles(str(root), frames=4, size=8, labels=True)
    assert names(source, root) == [
        os.path.join("jump", "v0.mp4"),
        os.path.join("run", "v1.mp4"),
        os.path.join("walk", "v2.mp4"),
    ]
    assert source.class_names == ["jump", "run", "walk"]
    assert [it.label for it in source.items] == [0, 1, 2]
    assert not warnings_of(caplog)

    # Frame folders: a folder reached through a sibling link is one clip, not two.
    frames = tmp_path / "frames"
    frame_folder(frames / "c0")
    frame_folder(frames / "c1")
    os.symlink("c0", frames / "b_link")
    os.symlink("..", frames / "c1" / "up")  # and a loop
    clips = data.FrameFolders(str(frames), frames=3, size=8)
    assert names(clips, frames) == ["c0", "c1"]
    assert sum("symlink loop" in x for x in warnings_of(caplog)) == 1


def test_a_dangling_link_is_still_reported_and_a_tree_of_only_loops_is_empty(tmp_path):
    root = tmp_path / "d"
    video(root / "ok.mp4")
    os.symlink(tmp_path / "gone.mp4", root / "dangling.mp4")
    source = data.VideoFiles(str(root), frames=4, size=8)
    assert source.skip_counts == {"unreadable": 1} and len(source.items) == 1

    empty = tmp_path / "only_loops"
    empty.mkdir()
    os.symlink(".", empty / "again")
    with pytest.raises(DataError, match="holds no videos"):
        data.source_kind(str(empty))


def test_the_base_module_imports_none_of_its_sources():
    """data/base.py is the base class; the sources import it, never the other way."""
    path = os.path.join(ROOT, "keras_vgan", "data", "base.py")
    tree = ast.parse(open(path).read())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported.update(a.name for a in node.names)
    assert not {m for m in imported if m.startswith("keras_vgan.data")}
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
    local = [
        n.name
        for f in functions
        for n in ast.walk(f)
        if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("keras_vgan")
    ]
    assert local == []
