"""The procedural tablet generator."""

from __future__ import annotations

import numpy as np
import trimesh

from cnnsuite_tablets.generator import PERIODS, generate_tablet, tablet_specs


def test_tablets_are_closed_and_deterministic():
    spec = tablet_specs(["ur_iii"], 1, seed=3, spacing=0.9)[0]
    v1, f1 = generate_tablet(spec)
    v2, f2 = generate_tablet(spec.to_item())
    np.testing.assert_array_equal(v1, v2)
    np.testing.assert_array_equal(f1, f2)
    mesh = trimesh.Trimesh(v1, f1, process=False)
    assert mesh.is_watertight and mesh.is_winding_consistent and mesh.volume > 0


def test_train_and_test_seeds_give_different_tablets():
    train = tablet_specs(list(PERIODS), 5, seed=1, spacing=1.0)
    test = tablet_specs(list(PERIODS), 5, seed=2, spacing=1.0)
    assert not {s.seed for s in train} & {s.seed for s in test}
    assert len({s.seed for s in train}) == len(train)


def test_periods_overlap_in_size():
    widths = {name: p.width for name, p in PERIODS.items()}
    low = max(w[0] for w in widths.values())
    high = min(w[1] for w in widths.values())
    assert low < high  # every period has tablets of widths in [low, high]


def test_small_sets_still_get_validation_tablets():
    from cnnsuite._discovery import get_manifest, load_plugin
    from cnnsuite_tablets.data import generated_set

    plugin = load_plugin(get_manifest("tablets"))
    examples = generated_set(list(PERIODS), 3, 1, train_seed=1, test_seed=2, spacing=1.0)
    splits = plugin.split(examples, {"split": {"val": 0.1, "test": 0.2}}, seed=0)
    assert len(splits["val"]) == len(PERIODS)
    assert len(splits["train"]) == 2 * len(PERIODS) and len(splits["test"]) == len(PERIODS)
