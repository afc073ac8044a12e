"""Loading molecules with measured values: the RDKit ChEMBL series, CSV/TSV, SMILES, SDF.

Every loader returns `cnnsuite.Examples` whose items are standardised canonical
SMILES (or, for SDF records with 3D coordinates, their molblocks), with one
`cnnsuite.Rejected` per record that could not be parsed or has no usable target.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

import numpy as np
from rdkit import Chem, RDConfig

from cnnsuite import BadInputError, Examples, Rejected

from .features import MoleculeError, parse_molecule, standardize

SMILES_NAMES = ("smiles", "canonical_smiles", "smile", "mol", "molecule", "structure")
SMILES_SUFFIXES = {".smi", ".smiles", ".ism", ".can"}
TABLE_SUFFIXES = {".csv", ".tsv", ".txt"}
SDF_SUFFIXES = {".sdf", ".sd", ".mol"}


def chembl_paths() -> tuple[Path, Path]:
    """The ChEMBL2321810 series shipped in the RDKit wheel: SMILES file and pIC50 table."""
    folder = Path(RDConfig.RDContribDir) / "FreeWilson" / "data"
    return folder / "CHEMBL2321810.smi", folder / "CHEMBL2321810_act.csv"


def load(source: str | None, data_cfg: dict[str, Any]) -> Examples:
    """Load `source` (a file) or, when None, the offline ChEMBL series."""
    if source is None:
        return load_chembl(data_cfg)
    path = Path(source)
    if not path.is_file():
        raise BadInputError(f"--data {source}: not a file; give a CSV/TSV, SMILES or SDF file")
    suffix = path.suffix.lower()
    if suffix in SDF_SUFFIXES:
        raw = read_sdf(path, data_cfg["target_column"])
    elif suffix in SMILES_SUFFIXES:
        raw = read_smiles_file(path)
    elif suffix in TABLE_SUFFIXES:
        raw = read_table(path, data_cfg["smiles_column"], data_cfg["target_column"])
    else:
        raise BadInputError(f"{path}: unknown file type {suffix!r}; use .csv, .tsv, .smi or "
                            ".sdf")
    return to_examples(raw, str(path), data_cfg)


def load_chembl(data_cfg: dict[str, Any]) -> Examples:
    """The default data: about 1,000 compounds of one ChEMBL series with pIC50."""
    smi, act = chembl_paths()
    if not smi.exists() or not act.exists():
        raise BadInputError(f"the RDKit wheel lacks {smi.name} or {act.name} under "
                            f"{smi.parent}; reinstall rdkit or give --data")
    with act.open(newline="", encoding="utf-8") as handle:
        values = {row["Name"]: row["Act"] for row in csv.DictReader(handle)}
    raw = []
    for number, line in enumerate(smi.read_text(encoding="utf-8").splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        name = parts[1] if len(parts) > 1 else f"line{number}"
        raw.append((name, parts[0], values.get(name, "")))
    return to_examples(raw, "CHEMBL2321810 (RDKit wheel)", data_cfg)


def read_smiles_file(path: Path) -> list[tuple[str, str, str]]:
    """``SMILES [name [value]]`` per line, whitespace-separated; a header line is skipped."""
    raw = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        if number == 1 and parts[0].lower() in SMILES_NAMES:
            continue
        name = parts[1] if len(parts) > 1 else f"line{number}"
        raw.append((name, parts[0], parts[2] if len(parts) > 2 else ""))
    return raw


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_target_column(values: list[str]) -> bool:
    # Missing values are allowed (those rows are rejected later); labels count as numbers.
    given = [v for v in values if v]
    return bool(given) and all(
        _is_number(v) or v.lower() in {"true", "false", "active", "inactive"} for v in given)


def read_table(path: Path, smiles_column: str, target_column: str
               ) -> list[tuple[str, str, str]]:
    """A CSV or TSV with a SMILES column and a target column (both found when not named).

    The SMILES column is the one called smiles (any case) or similar; the target is the
    last column whose given values are all numbers (or true/false, active/inactive).
    """
    text = path.read_text(encoding="utf-8-sig")
    delimiter = "\t" if path.suffix.lower() == ".tsv" or "\t" in text.split("\n", 1)[0] else ","
    rows = list(csv.DictReader(text.splitlines(), delimiter=delimiter))
    if not rows or not rows[0]:
        raise BadInputError(f"{path}: no rows under a header line")
    columns = [c for c in rows[0] if c is not None]
    smiles_col = smiles_column or next(
        (c for c in columns if c.strip().lower() in SMILES_NAMES), "")
    if smiles_col not in columns:
        raise BadInputError(f"{path}: no SMILES column {smiles_column or '(auto)'!r} among "
                            f"{columns}; set data.smiles_column")
    if target_column:
        if target_column not in columns:
            raise BadInputError(f"{path}: no target column {target_column!r} among {columns}; "
                                "set data.target_column")
        target_col = target_column
    else:
        numeric = [c for c in columns if c != smiles_col and _is_target_column(
            [(r.get(c) or "").strip() for r in rows])]
        if not numeric:
            raise BadInputError(f"{path}: no numeric target column among {columns}; "
                                "set data.target_column")
        target_col = numeric[-1]
    id_col = next((c for c in columns if c.strip().lower() in {"id", "name", "compound id",
                                                               "chembl_id", "compound_id"}), "")
    return [((r.get(id_col) or "").strip() or f"row{i + 2}", (r.get(smiles_col) or "").strip(),
             (r.get(target_col) or "").strip()) for i, r in enumerate(rows)]


def read_sdf(path: Path, target_column: str) -> list[tuple[str, str, str]]:
    """SDF records as molblocks with a property as the target (the last numeric one if unnamed).

    Records RDKit cannot read are kept (with an empty molblock) so that they are
    reported as rejected rather than lost.
    """
    raw = []
    supplier = Chem.SDMolSupplier(str(path), removeHs=False, sanitize=False)
    for index in range(len(supplier)):
        block = supplier.GetItemText(index)
        mol = supplier[index]
        name = f"record{index + 1}"
        value = ""
        if mol is not None:
            name = mol.GetProp("_Name").strip() if mol.HasProp("_Name") else ""
            name = name or f"record{index + 1}"
            props = mol.GetPropsAsDict()
            if target_column:
                value = str(props.get(target_column, ""))
            else:
                numeric = [k for k, v in props.items() if _is_number(str(v))]
                value = str(props[numeric[-1]]) if numeric else ""
        raw.append((name, block if mol is not None else "", value))
    if not raw:
        raise BadInputError(f"{path}: no SDF records")
    return raw


def parse_target(text: str) -> float:
    """A target value: a number, or an activity label (true/active = 1)."""
    lowered = text.strip().lower()
    if lowered in {"true", "active"}:
        return 1.0
    if lowered in {"false", "inactive"}:
        return 0.0
    return float(text)


def to_examples(raw: list[tuple[str, str, str]], source: str, data_cfg: dict[str, Any],
                need_target: bool = True) -> Examples:
    """Parse and standardise ``(id, SMILES or molblock, target)`` records into examples.

    Unparsable molecules, unknown elements and missing targets become `Rejected`; a
    file where nothing is usable raises `BadInputError` (exit code 2).
    """
    items: list[str] = []
    ids: list[str] = []
    targets: list[float] = []
    rejected: list[Rejected] = []
    limit = int(data_cfg.get("limit", 0))
    if limit and len(raw) > limit:
        keep = np.sort(np.random.default_rng(0).permutation(len(raw))[:limit])
        raw = [raw[i] for i in keep]
    for name, text, value in raw:
        try:
            if not text:
                raise MoleculeError("unreadable record")
            mol = standardize(parse_molecule(text))
        except MoleculeError as exc:
            rejected.append(Rejected(name, str(exc), source))
            continue
        if need_target:
            try:
                target = parse_target(value)
                if not np.isfinite(target):
                    raise ValueError
            except ValueError:
                rejected.append(Rejected(name, f"no numeric target (got {value!r})", source))
                continue
            targets.append(target)
        items.append(text if "\n" in text else Chem.MolToSmiles(mol))
        ids.append(name)
    if not items:
        reasons = "; ".join(f"{r.id}: {r.reason}" for r in rejected[:3])
        raise BadInputError(f"{source}: none of {len(raw)} records is usable ({reasons})")
    y = np.asarray(targets, dtype=np.float32) if need_target else None
    task = infer_task(y, data_cfg.get("task", "auto")) if y is not None else "regression"
    if y is not None and task == "classification":
        if not np.all(np.isin(y, (0.0, 1.0))):
            raise BadInputError(f"{source}: data.task = 'classification' needs 0/1 targets")
        return Examples(items=items, targets=y.astype(np.int64), ids=ids, task=task,
                        class_names=["inactive", "active"], rejected=rejected,
                        meta={"source": source})
    return Examples(items=items, targets=y, ids=ids, task="regression", rejected=rejected,
                    meta={"source": source})


def infer_task(y: np.ndarray, task: str) -> str:
    """'classification' when asked, or when 'auto' and every target is 0 or 1."""
    if task in ("regression", "classification"):
        return task
    if task != "auto":
        raise BadInputError(f"data.task must be 'auto', 'regression' or 'classification', "
                            f"not {task!r}")
    return "classification" if len(y) and np.all(np.isin(y, (0.0, 1.0))) else "regression"


def read_inputs(inputs: list[str]) -> Examples:
    """Inputs to ``cnnsuite predict``: SMILES strings, or SMILES / CSV / SDF files."""
    raw: list[tuple[str, str, str]] = []
    rejected: list[Rejected] = []
    for given in inputs:
        path = Path(given)
        suffix = path.suffix.lower()
        looks_like_file = os.sep in given or suffix in SMILES_SUFFIXES | TABLE_SUFFIXES | \
            SDF_SUFFIXES
        if path.is_file():
            try:
                if suffix in SDF_SUFFIXES:
                    records = read_sdf(path, "")
                elif suffix in TABLE_SUFFIXES:
                    records = _read_smiles_table(path)
                else:
                    records = read_smiles_file(path)
            except BadInputError as exc:
                rejected.append(Rejected(given, str(exc), "predict"))
                continue
            raw += [(f"{path.name}:{name}", text, "") for name, text, _ in records]
        elif looks_like_file and not _parses(given):
            rejected.append(Rejected(given, "no such file, and not a valid SMILES", "predict"))
        else:
            raw.append((given, given, ""))
    items, ids = [], []
    for name, text, _ in raw:
        try:
            mol = standardize(parse_molecule(text))
        except MoleculeError as exc:
            rejected.append(Rejected(name, str(exc), "predict"))
            continue
        items.append(text if "\n" in text else Chem.MolToSmiles(mol))
        ids.append(name)
    return Examples(items=items, ids=ids, rejected=rejected, task="regression")


def _parses(text: str) -> bool:
    return Chem.MolFromSmiles(text) is not None


def _read_smiles_table(path: Path) -> list[tuple[str, str, str]]:
    text = path.read_text(encoding="utf-8-sig")
    delimiter = "\t" if path.suffix.lower() == ".tsv" or "\t" in text.split("\n", 1)[0] else ","
    rows = list(csv.DictReader(text.splitlines(), delimiter=delimiter))
    columns = list(rows[0]) if rows else []
    col = next((c for c in columns if c and c.strip().lower() in SMILES_NAMES), "")
    if not col:
        raise BadInputError(f"{path}: no SMILES column among {columns}")
    return [(f"row{i + 2}", (r.get(col) or "").strip(), "") for i, r in enumerate(rows)]
