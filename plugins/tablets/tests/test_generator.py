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
