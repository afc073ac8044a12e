"""The `drugs` plugin: ties data, RDKit preprocessing, the 3D CNN, metrics and plots to the host."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import keras
import numpy as np
from rdkit import Chem

from cnnsuite import (
    BadInputError,
    Config,
    Examples,
    Features,
    Metrics,
    Plugin,
    Rejected,
    State,
    split_examples,
)

from . import data, metrics, plots
from .conformer_store import cached_molecule_atoms
from .features import (
    ALIGN_METHODS,
    Core,
    FeatureSettings,
    MoleculeAtoms,
    MoleculeError,
    add_protein,
    align_to_core,
    channel_names,
    find_core,
    murcko_scaffold,
    pack_atoms,
    pocket_atoms,
    protein_centroid,
    protein_channel_names,
    read_protein,
    standard_heavy_molecule,
    standard_smiles,
    voxel_grid,
)
from .model import build_cnn, ensemble_size, with_rotations

#: Random and test rotations (degrees) of molecules aligned onto a core when
#: model.max_rotation is "auto"; molecules posed by their principal axes turn freely.
CORE_MAX_ROTATION = 20.0


def _align_method(config: Config) -> str:
    method = str(config["features"].get("align", "principal-axes"))
    if method not in ALIGN_METHODS:
        raise BadInputError(f"features.align must be one of {', '.join(ALIGN_METHODS)}, "
                            f"not {method!r}")
    return method


def core_embed(config: Config) -> bool:
    """``features.core_embed``: embed conformers with the core held at the reference."""
    value = config["features"].get("core_embed", False)
    if not isinstance(value, bool):
        raise BadInputError(f"features.core_embed must be true or false, not {value!r}")
    return value


def dev_split(config: Config) -> bool:
    """``split.dev``: score the validation split as the test split (test set aside)."""
    value = config["split"].get("dev", False)
    if not isinstance(value, bool):
        raise BadInputError(f"split.dev must be true or false, not {value!r}")
    return value


def max_rotation(config: Config, state: State) -> float:
    """The largest training and test rotation in degrees (``model.max_rotation``)."""
    value = config["model"].get("max_rotation", "auto")
    if value == "auto":
        return CORE_MAX_ROTATION if state.get("core") else 180.0
    try:
        angle = float(value)
    except (TypeError, ValueError):
        angle = -1.0
    if not 0.0 <= angle <= 180.0:
        raise BadInputError(f"model.max_rotation must be 'auto' or degrees from 0 to 180, "
                            f"not {value!r}")
    return angle


def _file_stem(text: str) -> str:
    """A short, file-safe name for an input (a SMILES string or a file name)."""
    stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in text.splitlines()[0])
    return stem[:40] or "molecule"


class DrugsPlugin(Plugin):
    """Bioactivity and property prediction from 3D voxel grids of molecules."""

    def load_data(self, source: str | None, config: Config) -> Examples:
        return data.load(source, config["data"])

    def split(self, examples: Examples, config: Config, seed: int) -> dict[str, Examples]:
        split = config["split"]
        method = split.get("method", "random")
        if method == "scaffold":
            examples = replace(examples, groups=np.array(
                [murcko_scaffold(standard_smiles(item) if "\n" in item else item)
                 for item in examples.items], dtype=object))
        elif method != "random":
            raise BadInputError(f"split.method must be 'random' or 'scaffold', not {method!r}")
        val, test = float(split["val"]), float(split["test"])
        splits = split_examples(examples, val, test, seed)
        if not dev_split(config):
            return splits
        # split.dev: the test molecules are set aside unread; the validation molecules are
        # scored as the test split, and a validation split of the same share of the
        # molecules left (val / (1 - test)) is carved out of the training split the same way
        inner = split_examples(splits["train"], val / max(1.0 - test, 1e-9), 0.0, seed)
        return {"train": inner["train"], "val": inner["val"], "test": splits["val"]}

    def fit_state(self, train: Examples, config: Config) -> State:
        state: State = {
            "task": train.task,
            "class_names": train.class_names,
            "channels": channel_names(bool(config["features"]["charges"])),
            "max_atoms": int(config["features"]["max_atoms"]),
            "input_atoms": int(config["features"]["max_atoms"]),
        }
        if config["data"]["protein"]:
            state["protein"] = self._protein_state(config)
            state["channels"] += protein_channel_names()
            state["input_atoms"] += state["protein"]["n_atoms"]
        state["core"], state["core_note"] = self._core_state(train, config)
        # bad values stop the run before featurisation
        max_rotation(config, state)
        core_embed(config)
        try:
            ensemble_size(config["model"])
        except ValueError as exc:
            raise BadInputError(str(exc)) from None
        if train.task == "regression" and train.targets is not None:
            state["y_mean"] = float(np.mean(train.targets))
            state["y_std"] = float(np.std(train.targets)) or 1.0
        return state

    def _core_state(self, train: Examples, config: Config) -> tuple[dict[str, Any] | None,
                                                                    str]:
        """The training molecules' common core, or None with the reason (``features.align``)."""
        if _align_method(config) != "core":
            return None, "features.align = 'principal-axes'"
        if config["data"]["protein"]:
            return None, "protein-ligand mode: poses keep their place in the pocket"
        core, note = find_core(list(train.items), int(config["features"]["conformer_seed"]))
        if core is None:
            return None, note + "; every molecule is posed by its principal axes"
        return {"smarts": core.smarts, "reference": core.reference.round(4).tolist(),
                "molblock": core.molblock}, note

    def _protein_state(self, config: Config) -> dict[str, Any]:
        path = Path(config["data"]["protein"]).resolve()
        if not path.is_file():
            raise BadInputError(f"data.protein = {str(path)!r}: no such PDB file")
        try:
            protein = read_protein(str(path))
        except MoleculeError as exc:
            raise BadInputError(str(exc)) from None
        given = [float(v) for v in config["data"]["pocket_centre"]]
        if given and len(given) != 3:
            raise BadInputError(f"data.pocket_centre must be [x, y, z], not {given}")
        centre = given or list(protein_centroid(protein))
        atoms, _ = pocket_atoms(protein, centre, float(config["features"]["box"]),
                                float(config["features"]["sigma_scale"]))
        return {"path": str(path), "centre": centre, "n_atoms": len(atoms),
                "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}

    def feature_config(self, config: Config) -> dict[str, Any] | None:
        settings = FeatureSettings.from_config(config["features"])
        return {**asdict(settings), "max_atoms": int(config["features"]["max_atoms"]),
                "align": _align_method(config), "core_embed": core_embed(config)}

    def featurize(self, examples: Examples, state: State, config: Config) -> Features:
        settings = FeatureSettings.from_config(config["features"])
        if "protein" in state:
            settings = replace(settings, pocket_centre=tuple(state["protein"]["centre"]))
        constrained = bool(state.get("core")) and core_embed(config)
        if constrained:
            settings = replace(
                settings, core_smarts=state["core"]["smarts"],
                core_reference=tuple(tuple(float(v) for v in xyz)
                                     for xyz in state["core"]["reference"]),
                core_molblock=state["core"].get("molblock", ""))
        results = cached_molecule_atoms(list(examples.items), settings,
                                        int(config["features"]["workers"]))
        max_atoms = int(state["max_atoms"])
        kept: list[int] = []
        molecules: list[MoleculeAtoms] = []
        rejected: list[Rejected] = []
        source = str(examples.meta.get("source", "featurize"))
        for index, result in enumerate(results):
            if isinstance(result, str):
                rejected.append(Rejected(examples.ids[index], result, source))
            elif result.channels.shape[0] > max_atoms:
                rejected.append(Rejected(
                    examples.ids[index], f"{result.channels.shape[0]} heavy atoms, more than "
                    f"features.max_atoms = {max_atoms}", source))
            else:
                kept.append(index)
                molecules.append(result)
        alignment = self._align(molecules, [examples.items[i] for i in kept], state)
        n_channels = len(state["channels"])
        if molecules:
            atoms, channels, owner = pack_atoms(molecules, max_atoms)
            if "protein" in state:
                atoms, channels = self._with_protein(atoms, channels, state, config)
        else:
            atoms = np.zeros((0, int(state["input_atoms"]), 4), np.float32)
            channels = np.zeros((0, int(state["input_atoms"]), n_channels), np.float32)
            owner = np.zeros(0, np.int64)
        y = None
        if examples.targets is not None:
            targets = np.asarray(examples.targets, dtype=np.float32)[kept][owner]
            if state["task"] == "regression":
                targets = (targets - state["y_mean"]) / state["y_std"]
            y = targets.astype(np.float32)
        embedding = [m.embedding for m in molecules] if constrained else []
        return Features(x={"atoms": atoms, "channels": channels}, y=y, rejected=rejected,
                        meta={"owner": owner.tolist(), "kept": kept, "alignment": alignment,
                              "embedding": embedding})

    def _align(self, molecules: list[MoleculeAtoms], items: list[str], state: State
               ) -> list[str]:
        """Align each molecule's conformers onto the run's core, in place.

        Returns per molecule "core", "partial" (aligned by its common substructure with
        the reference molecule) or "none" (no core: the principal-axes pose is kept);
        the counts are reported (``core_partial`` and ``core_fallback`` in the metrics,
        ``alignment`` per predicted molecule).
        """
        if not state.get("core"):
            return ["none"] * len(molecules)
        info = state["core"]
        core = Core(info["smarts"], np.asarray(info["reference"], np.float32),
                    info.get("molblock", ""))
        alignment = []
        for i, (molecule, item) in enumerate(zip(molecules, items, strict=True)):
            result = align_to_core(molecule.conformers, standard_heavy_molecule(item), core)
            if result is not None:
                molecules[i] = replace(molecule, conformers=result[0])
            alignment.append(result[2] if result is not None else "none")
        return alignment

    def _with_protein(self, atoms: np.ndarray, channels: np.ndarray, state: State,
                      config: Config) -> tuple[np.ndarray, np.ndarray]:
        info = state["protein"]
        if hashlib.sha256(Path(info["path"]).read_bytes()).hexdigest() != info["sha256"]:
            raise BadInputError(f"the protein file {info['path']} changed since training")
        protein_atoms, protein_channels = pocket_atoms(
            read_protein(info["path"]), info["centre"], float(config["features"]["box"]),
            float(config["features"]["sigma_scale"]))
        return add_protein(atoms, channels, protein_atoms, protein_channels)

    def build_model(self, features: Features, state: State, config: Config) -> keras.Model:
        steps = -(-len(features) // int(config["train"]["batch_size"]))
        return build_cnn(int(state["input_atoms"]), len(state["channels"]), state["task"],
                         config["model"], config["features"], steps,
                         int(config["train"]["epochs"]), int(config["seed"]),
                         max_rotation(config, state))

    def predict(self, model: keras.Model, features: Features, state: State,
                config: Config) -> np.ndarray:
        """Raw outputs per conformer row, averaged over `model.predict_rotations` rotations.

        Training validates with `model.test_rotations` (cheap, every epoch); the final
        predictions average over more rotations of the same trained model.
        """
        assert isinstance(features.x, dict)
        k = int(config["model"].get("predict_rotations", config["model"]["test_rotations"]))
        if k != model.get_layer("rotation_average").k:
            model = with_rotations(model, k)
        # an ensemble (model.ensemble) gives one column per member: their mean
        out = np.asarray(model.predict(features.x, batch_size=32, verbose=0))
        return out.mean(axis=-1, keepdims=True) if out.ndim == 2 else out

    def predictions(self, y_pred: Any, features: Features, state: State) -> np.ndarray:
        """One prediction per featurised molecule: conformer rows averaged, units restored."""
        owner = np.asarray(features.meta["owner"], dtype=np.int64)
        values = metrics.per_molecule(np.asarray(y_pred), owner, len(features.meta["kept"]))
        if state["task"] == "regression":
            values = values * state["y_std"] + state["y_mean"]
        return values

    def evaluate(self, y_pred: Any, features: Features, examples: Examples, state: State,
                 config: Config) -> Metrics:
        assert examples.targets is not None
        predicted = self.predictions(y_pred, features, state)
        measured = np.asarray(examples.targets)[features.meta["kept"]]
        result = (metrics.classification_metrics(measured, predicted)
                  if state["task"] == "classification"
                  else metrics.regression_metrics(measured, predicted))
        if state.get("core"):
            # test molecules aligned by a part of the core, and those left in their
            # principal axes (no common substructure of CORE_MIN_ATOMS with the reference)
            alignment = list(features.meta.get("alignment", []))
            result.values["core_partial"] = alignment.count("partial")
            result.values["core_fallback"] = alignment.count("none")
        if features.meta.get("embedding"):
            # features.core_embed: test molecules embedded without the core constraint
            # (no common substructure with the core, or the constrained embedding failed)
            result.values["core_embed_free"] = list(features.meta["embedding"]).count("free")
        return result

    def plots(self, out_dir: Path, y_pred: Any, features: Features, examples: Examples,
              state: State, config: Config, history: dict[str, list[float]]) -> list[Path]:
        assert isinstance(features.x, dict) and examples.targets is not None
        predicted = self.predictions(y_pred, features, state)
        measured = np.asarray(examples.targets)[features.meta["kept"]]
        written: list[Path] = []
        if state["task"] == "classification":
            auc = metrics.classification_metrics(measured, predicted).values["roc_auc"]
            written.append(plots.roc_curve_plot(out_dir / "roc_curve.png", measured, predicted,
                                                auc))
        else:
            rmse = metrics.regression_metrics(measured, predicted).values["rmse"]
            written.append(plots.predicted_vs_measured(out_dir / "predicted_vs_measured.png",
                                                       measured, predicted, rmse))
        first = features.meta["kept"][0]
        item = examples.items[first]
        grid = voxel_grid(features.x["atoms"][0], features.x["channels"][0],
                          float(config["features"]["box"]),
                          float(config["features"]["resolution"]))
        written.append(plots.molecule_grid(out_dir / "molecule_grid.png",
                                           standard_smiles(item) if "\n" in item else item,
                                           grid, state["channels"]))
        curves = plots.training_curves(out_dir / "training_curves.png", history)
        return written + ([curves] if curves else [])

    def read_inputs(self, inputs: list[str], state: State, config: Config) -> Examples:
        return data.read_inputs(inputs)

    def explain(self, model: keras.Model, features: Features, examples: Examples,
                state: State, config: Config, method: str, out_dir: Path
                ) -> list[dict[str, Any]]:
        """Atom attributions of each molecule's prediction, as a similarity map and `.npy`."""
        from . import explain

        assert isinstance(features.x, dict)
        owner = np.asarray(features.meta["owner"], dtype=np.int64)
        kept = list(features.meta["kept"])
        if "protein" in state:
            raise BadInputError("explain maps grid attributions onto the atoms of molecules; "
                                "protein-ligand runs are not supported (run without "
                                "data.protein to explain ligands alone)")
        predicted = self.predictions(self.predict(model, features, state, config), features,
                                     state)
        weights, on_atoms = explain.molecule_attributions(
            model, features.x["atoms"], features.x["channels"], owner, len(kept),
            state["task"], config, method)
        rows = []
        for i, index in enumerate(kept):
            item = examples.items[index]
            mol = explain.depiction_molecule(item)
            value = float(predicted[i])
            label = (f"p(active) = {value:.2f}" if state["task"] == "classification"
                     else f"predicted {value:.2f}")
            stem = f"{i:03d}-{_file_stem(examples.ids[index])}"
            png = explain.similarity_map_png(
                out_dir / f"{stem}.png", mol, weights[i],
                f"{Chem.MolToSmiles(mol)}\n{label}; {method}")
            np.save(out_dir / f"{stem}.npy", weights[i])
            rows.append({"input": examples.ids[index], "smiles": Chem.MolToSmiles(mol),
                         "prediction": round(value, 4), "png": str(png),
                         "npy": str(out_dir / f"{stem}.npy"),
                         "on_atoms": round(on_atoms[i], 4),
                         "top": explain.top_atoms(mol, weights[i])})
        return rows

    def describe(self, y_pred: Any, features: Features, examples: Examples, state: State,
                 config: Config) -> list[dict[str, Any]]:
        predicted = self.predictions(y_pred, features, state)
        counts = np.bincount(np.asarray(features.meta["owner"], dtype=np.int64),
                             minlength=len(predicted))
        rows = []
        for value, index, count in zip(predicted, features.meta["kept"], counts, strict=True):
            item = examples.items[index]
            row: dict[str, Any] = {"input": examples.ids[index],
                                   "smiles": standard_smiles(item) if "\n" in item else item}
            if state["task"] == "classification":
                row["probability_active"] = float(value)
                row["class"] = "active" if value >= 0.5 else "inactive"
            else:
                row["prediction"] = float(value)
            row["conformers"] = int(count)
            if state.get("core"):
                row["alignment"] = features.meta["alignment"][len(rows)]
            rows.append(row)
        return rows
