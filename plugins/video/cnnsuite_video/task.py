"""The base of the plugin's tasks: one `cnnsuite.Plugin` per application of the plugin.

`cnnsuite_video.plugin.VideoPlugin` picks a task by the configuration's ``task`` key
(see its ``TASKS`` table) and hands every call of the host to it. A task implements the
host's contract as a plugin would; this base adds what the tasks share.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np

from cnnsuite import BadInputError, Config, Examples, Features, Plugin, Rejected, State

from . import data

__all__ = ["VideoTask"]


class VideoTask(Plugin):
    """A task of the `video` plugin, with the helpers the tasks share."""

    def predict(self, model: keras.Model, features: Features, state: State,
                config: Config) -> Any:
        """Batched ``model.predict`` in the run's batch size (tasks may do more)."""
        return model.predict(features.x, batch_size=int(config["train"]["batch_size"]),
                             verbose=0)

    def read_inputs(self, inputs: list[str], state: State, config: Config) -> Examples:
        """Video files, frame folders or ``.npy`` clips, each decoded or rejected with why."""
        items, ids, rejected = [], [], []
        for name in inputs:
            try:
                items.append(data.read_clip_source(Path(name), int(state["size"]),
                                                   str(state["color"])))
                ids.append(name)
            except data.UnreadableVideo as exc:
                rejected.append(Rejected(name, str(exc), "predict"))
        return Examples(items=items, ids=ids, rejected=rejected, task=self.task_name)

    task_name = "classification"

    @staticmethod
    def check_source(source: str) -> Path:
        """`source` as an existing path, or a BadInputError saying what to give."""
        path = Path(source)
        if not path.exists():
            raise BadInputError(f"--data {source}: no such file or folder; give a folder of "
                                "videos (one sub-folder per class) or a .npz of clips")
        return path

    @staticmethod
    def clips_from_npz(path: Path, size: int, color: str, keys: tuple[str, ...]
                       ) -> tuple[list[np.ndarray], list[int], list[Rejected], Any]:
        """The clips of a ``.npz`` (key ``clips``) as frames, with `keys` read beside them.

        Returns (frames, indices of the usable clips, rejected, the npz file).
        """
        try:
            bundle = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise BadInputError(f"--data {path}: not a readable .npz ({exc})") from None
        missing = [k for k in ("clips", *keys) if k not in bundle]
        if missing:
            raise BadInputError(f"--data {path}: the .npz lacks {', '.join(missing)} "
                                f"(it has {', '.join(bundle.files) or 'nothing'})")
        clips = bundle["clips"]
        frames, keep, rejected = [], [], []
        for i in range(len(clips)):
            try:
                frames.append(data.frames_from_array(clips[i], size, color))
                keep.append(i)
            except data.UnreadableVideo as exc:
                rejected.append(Rejected(f"{path}[{i}]", str(exc), "load"))
        if not frames:
            raise BadInputError(f"--data {path}: none of its {len(clips)} clips is usable"
                                + (f" (first: {rejected[0].reason})" if rejected else ""))
        return frames, keep, rejected, bundle
