"""Text-to-video: captions, tokens, the conditional VAE, the judges, and the CLI end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cnnsuite_video import captions, synthetic
from cnnsuite_video.text2video_data import captioned_items, pose_of


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cnnsuite", *args], capture_output=True,
                          text=True, timeout=600, cwd=cwd)


# -- captions and tokens -------------------------------------------------------------------


def test_captions_name_the_digit_and_the_action() -> None:
    rng = np.random.default_rng(0)
    for digit in range(10):
        for action in synthetic.ACTIONS:
            for heldout in (False, True):
                text = captions.caption(digit, action, rng, heldout=heldout)
                assert captions.parse_prompt(text, synthetic.ACTIONS) == (digit, action), text


def test_heldout_phrasings_use_frames_no_training_caption_uses() -> None:
    items = captioned_items(900, 300, seed=1)
    train = [i["caption"] for i in items if i["group"] == "train"]
    test = [i["caption"] for i in items if i["group"] == "heldout_phrasing"]
    assert not set(train) & set(test)
    for frame in ("here a", "we see the number", ": the digit", "a clip where", "watch the"):
        assert not any(frame in t for t in train)
        assert any(frame in t for t in test)
    # a held-out wording is a new pairing of words that training captions use
    train_words = {w for t in train for w in t.replace(",", "").split()}
    assert "counterclockwise" in train_words and "spinning" in train_words
    assert not any("spinning counterclockwise" in t or "spins counterclockwise" in t
                   for t in train)
    assert any("counterclockwise" in t and "spin" in t for t in test)


def test_heldout_combinations_cover_every_digit_and_action_and_never_train() -> None:
    pairs = captions.heldout_combinations(synthetic.ACTIONS)
    assert sorted(d for d, _ in pairs) == list(range(10))
    assert {a for _, a in pairs} == set(synthetic.ACTIONS)
    items = captioned_items(900, 90, seed=2, captions_per_clip=2)
    assert sum(i["group"] == "train" for i in items) == 1800
    trained = {(i["digit"], i["action"]) for i in items if i["group"] == "train"}
    assert not trained & pairs
    assert len(trained) == 90 - len(pairs)
    assert {(i["digit"], i["action"]) for i in items
            if i["group"] == "heldout_combination"} == pairs


def test_wordpiece_tokens_from_tensorflow_text() -> None:
    vocab = captions.learn_vocab(["A 3 drifting to the left", "the digit seven spins"])
    assert vocab[:2] == [captions.PAD, captions.UNK]
    assert captions.pieces("The digit SEVEN spins", vocab) == ["the", "digit", "seven", "spins"]
    # an unseen word becomes known pieces, never [UNK]
    assert captions.pieces("drifts", vocab) == ["d", "##r", "##i", "##f", "##t", "##s"]
    ids = captions.token_ids(["a 3", "the digit seven spins to the left"], vocab, 5)
    assert ids.shape == (2, 5) and ids.dtype == np.int32
    assert list(ids[0, 2:]) == [0, 0, 0]
    assert vocab[ids[1, 4]] == "to"


def test_unknown_action_name_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no caption wording for action 'juggle'"):
        captions.caption(3, "juggle", np.random.default_rng(0))


# -- the judges ----------------------------------------------------------------------------


def test_frechet_distance_matches_gaussians() -> None:
    from cnnsuite_video.text2video_eval import frechet_distance

    rng = np.random.default_rng(0)
    a = rng.standard_normal((20000, 3))
    b = rng.standard_normal((20000, 3)) * 2.0 + np.array([1.0, 0.0, 2.0])
    # |mu_a - mu_b|^2 + tr(I + 4I - 2 * 2I) = 5 + 3
    assert frechet_distance(a, b) == pytest.approx(8.0, rel=0.03)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)


def test_joint_distance_sees_clips_that_do_not_match_their_prompts() -> None:
    from cnnsuite_video.text2video_eval import frechet_scores

    rng = np.random.default_rng(1)
    actions = rng.integers(0, 3, 600)
    digits = rng.integers(0, 10, 600)
    centres = np.eye(8)[:3] * 4.0
    real = centres[actions] + rng.standard_normal((600, 8)) * 0.5
    fake = centres[actions] + rng.standard_normal((600, 8)) * 0.5
    shuffled = rng.permutation(fake)  # the same marginal, the wrong prompts
    good = frechet_scores(real, digits, actions, fake, digits, actions, 3)
    bad = frechet_scores(real, digits, actions, shuffled, digits, actions, 3)
    assert good["fvd"] == pytest.approx(bad["fvd"], abs=1e-9)  # marginals cannot tell
    assert bad["fvd_joint"] > 10 * good["fvd_joint"]
    assert bad["fvd_per_action"] > 10 * good["fvd_per_action"]


def test_diversity_is_zero_for_copies() -> None:
    from cnnsuite_video.text2video_eval import diversity

    clip = np.random.default_rng(0).random((4, 8, 8, 1))
    assert diversity([np.stack([clip] * 3)])["pixel_rms"] == pytest.approx(0.0, abs=1e-6)
    assert diversity([np.stack([clip, 1 - clip])])["pixel_rms"] > 0.2


# -- the model -----------------------------------------------------------------------------


def test_sub_pixel_puts_channels_in_2x2_blocks() -> None:
    from keras import ops

    from cnnsuite_video.text2video_model import SubPixel

    x = np.arange(1 * 1 * 2 * 2 * 4, dtype="float32").reshape(1, 1, 2, 2, 4)
    out = ops.convert_to_numpy(SubPixel()(x))
    assert out.shape == (1, 1, 4, 4, 1)
    assert out[0, 0, :2, :2, 0].tolist() == [[0, 1], [2, 3]]  # pixel (0, 0)'s four channels
    assert out[0, 0, :2, 2:, 0].tolist() == [[4, 5], [6, 7]]  # pixel (0, 1)'s


def _captioned(actions: tuple[str, ...]) -> tuple[np.ndarray, list[dict], dict[str, Any]]:
    """32 tiny real clips of two actions with plain captions: (clips, infos, model inputs).
    Seeds Keras too, so a test's training does not depend on the tests run before it."""
    import keras

    keras.utils.set_random_seed(0)
    clips, infos = synthetic.make_action_clips(32, frames=8, size=16, seed=0, actions=actions)
    texts = [f"a {i['digit']} moving {i['action']}" for i in infos]
    vocab = captions.learn_vocab(texts)
    x = {"tokens": captions.token_ids(texts, vocab, 8), "clip": clips,
         "pose": np.stack([pose_of(i["params"], 16) for i in infos]),
         "digit": np.array([i["digit"] for i in infos], dtype="int32"),
         "action": np.array([i["label"] for i in infos], dtype="int32"),
         "vocab_size": len(vocab)}
    return clips, infos, x


def _samples_by_seed_and_reloads(model: Any, tokens: np.ndarray, poses: np.ndarray,
                                 path: Path) -> None:
    """A prompt and a seed give one clip, other seeds others, and a reload the same."""
    import keras

    one = model.generate(tokens[:2], [7, 7], poses)
    assert one.shape == (2, 8, 16, 16, 1) and 0.0 <= one.min() and one.max() <= 1.0
    np.testing.assert_allclose(model.generate(tokens[:2], [7, 7], poses), one)
    assert np.abs(model.generate(tokens[:2], [8, 9], poses) - one).max() > 1e-4
    model.save(path)
    again = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(again.generate(tokens[:2], [7, 7], poses), one, atol=1e-5)


def test_vae_learns_saves_and_samples_by_seed(tmp_path: Path) -> None:
    from cnnsuite_video.text2video_model import build_text_to_video

    clips, _, x = _captioned(("left", "right"))
    model = build_text_to_video(x.pop("vocab_size"), 8, 8, 16, latent_dim=4, width=4,
                                learning_rate=0.005)
    history = model.fit(x, clips, batch_size=16, epochs=6, verbose=0).history
    assert history["reconstruction"][-1] < 0.7 * history["reconstruction"][0]
    assert history["text_ce"][-1] < 0.8 * history["text_ce"][0]  # it reads the captions
    _samples_by_seed_and_reloads(model, x["tokens"], x["pose"], tmp_path / "t2v.keras")


def test_glyph_warp_redraws_the_generators_clips() -> None:
    """A glyph made of the digit's own pixels, moved by the true motion (`motion_of`)
    through `warp_glyph`, redraws the generator's clip of every action."""
    from keras import ops
    from scipy.ndimage import map_coordinates

    from cnnsuite_video.text2video_data import motion_of
    from cnnsuite_video.text2video_model import warp_glyph

    for action in synthetic.ACTIONS:
        item = {"digit": 3, "action": action, "seed": 123, "pool": "train"}
        clip, info = synthetic.render_clip(3, action, 123, noise=0, distractors=0,
                                           pool="train")
        motion, pose = motion_of(item, 16, 32), pose_of(info["params"], 32)
        cells = (np.arange(20) + 0.5) / 2 - 0.5  # glyph cell centres, padded digit pixels
        rows, cols = np.meshgrid(cells, cells, indexing="ij")
        glyph = map_coordinates(np.pad(synthetic.digit_images()[0][info["image"]], 1),
                                [rows, cols], order=1)
        centre = (15.5 + pose[:2] * 0.08 * 32)[None] + motion[:, :2] * 8
        angle = np.pi / 6 * pose[2] + np.pi * motion[:, 2]
        scale = (1 + 0.15 * pose[3]) * np.exp(motion[:, 3])
        out = ops.convert_to_numpy(warp_glyph(*(ops.convert_to_tensor(v[None], "float32")
                                                for v in (glyph, centre, angle, scale)), 32))
        assert np.abs(out[0] - clip[..., 0]).mean() < 0.1 * clip.mean(), action
        # a wrong motion does not redraw it
        wrong = ops.convert_to_numpy(warp_glyph(*(ops.convert_to_tensor(v[None], "float32")
                                                  for v in (glyph, centre[::-1], -angle,
                                                            scale[::-1])), 32))
        if action != "bounce":
            assert np.abs(wrong[0] - clip[..., 0]).mean() > 0.2 * clip.mean(), action


def test_layered_model_learns_saves_and_samples_by_seed(tmp_path: Path) -> None:
    from cnnsuite_video.text2video_data import motion_of
    from cnnsuite_video.text2video_model import build_layered_text_to_video

    clips, infos, x = _captioned(("left", "rotate_cw"))
    x["motion"] = np.stack([motion_of({**i, "pool": "all"}, 8, 16) for i in infos])
    model = build_layered_text_to_video(x.pop("vocab_size"), 8, 8, 16, latent_dim=4, width=4,
                                        learning_rate=0.005, motion_latent=2)
    history = model.fit(x, clips, batch_size=16, epochs=6, verbose=0).history
    assert history["reconstruction"][-1] < 0.9 * history["reconstruction"][0]
    assert history["motion"][-1] < 0.5 * history["motion"][0]  # it learns the motions
    assert history["text_ce"][-1] < 0.8 * history["text_ce"][0]  # it reads the captions
    _samples_by_seed_and_reloads(model, x["tokens"], x["pose"], tmp_path / "t2v.keras")


@pytest.mark.parametrize("layered", [False, True])
def test_no_text_control_ignores_the_prompt(layered: bool) -> None:
    from cnnsuite_video.text2video_model import build_layered_text_to_video, build_text_to_video

    if layered:
        model = build_layered_text_to_video(20, 6, 8, 16, latent_dim=4, width=4,
                                            conditional=False, motion_latent=2)
    else:
        model = build_text_to_video(20, 6, 8, 16, latent_dim=4, width=4, conditional=False)
    tokens = np.random.default_rng(0).integers(1, 20, (2, 6)).astype("int32")
    clips = model.generate(tokens, [3, 3], np.zeros((1, 4)))
    np.testing.assert_allclose(clips[0], clips[1], atol=1e-6)


# -- through the host ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs")
    done = _cli("run", "video", "--quick", "--set", "task=text-to-video", "--out", str(out),
                cwd=out)
    assert done.returncode == 0, done.stderr[-3000:]
    return Path(done.stdout.strip())


@pytest.mark.slow
def test_quick_run_reports_faithfulness_and_frechet(quick_run: Path) -> None:
    metrics = json.loads((quick_run / "metrics.json").read_text())
    assert metrics["headline"]["name"] == "faithfulness_both_heldout_phrasing"
    for key in ("faithfulness_action_heldout_phrasing", "faithfulness_digit_heldout_phrasing",
                "faithfulness_action_heldout_combination", "fvd_joint",
                "fvd_joint_shuffled_prompts", "diversity_pixel_rms"):
        assert np.isfinite(metrics[key]), key
    assert (quick_run / "t2v_prompts.png").stat().st_size > 5000


@pytest.mark.slow
def test_predict_writes_a_clip_the_video_loader_reads_back(quick_run: Path,
                                                           tmp_path: Path) -> None:
    from PIL import Image

    from cnnsuite_video.data import read_video

    out = tmp_path / "clips"
    done = _cli("predict", str(quick_run), "--prompt", "a 5 moving up", "--prompt",
                "the digit seven spins clockwise", "--out", str(out), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = json.loads(done.stdout)["predictions"]
    assert [r["understood"] for r in rows] == [{"digit": 5, "action": "up"},
                                               {"digit": 7, "action": "rotate_cw"}]
    frames = read_video(rows[0]["mp4"], size=32)
    assert frames.shape == (16, 32, 32, 1) and frames.dtype == np.uint8
    with Image.open(rows[0]["gif"]) as gif:
        assert gif.n_frames == 16
    assert Image.open(rows[0]["png"]).size[0] > 16 * 32
    # the same prompt and seed give the same clip
    again = _cli("predict", str(quick_run), "--prompt", "a 5 moving up", "--out",
                 str(tmp_path / "again"), "--json", cwd=tmp_path)
    row = json.loads(again.stdout)["predictions"][0]
    np.testing.assert_array_equal(read_video(row["mp4"], size=32), frames)


@pytest.mark.slow
def test_bad_prompts_and_data_exit_2(quick_run: Path, tmp_path: Path) -> None:
    done = _cli("predict", str(quick_run), "--prompt", "  ", cwd=tmp_path)
    assert done.returncode == 2 and "empty prompt" in done.stderr
    assert "Traceback" not in done.stderr
    done = _cli("run", "video", "--quick", "--set", "task=text-to-video", "--data",
                str(tmp_path), "--out", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 2 and "generated captioned clips" in done.stderr
