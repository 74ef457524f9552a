"""The Keras half of ``migrate``: :func:`run` builds the rewritten model with Keras 3, saves it
next to the target, loads it back and proves it against the original (see
:mod:`verify.migrate`)."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from verify import files, proof
from verify.migrate.rewrite import CannotMigrate, Plan, Result

#: Other names of the same initializer class, tried in order when the running Keras refuses
#: the one in the file: Keras 3.0-3.3 deserialise ``Orthogonal`` with its config only as
#: ``OrthogonalInitializer``, keras-nightly 3.16 only as ``Orthogonal`` (3.4-3.15 take both).
_ALIASES = {"Orthogonal": ("OrthogonalInitializer",),
            "OrthogonalInitializer": ("Orthogonal",)}


def run(plan_: Plan, target: Path, *, samples: int = 4, seed: int = 0, timesteps: int = 10,
        step: Callable[[int, str], None] | None = None) -> Result:
    """Build, save, reload and prove (see the module docstring); the target is written only
    when the proof holds."""
    from verify import compare, keras_adapter

    keras = keras_adapter.keras
    if keras_adapter.KERAS_MAJOR < 3:
        raise CannotMigrate(f"migrate writes a Keras 3 .keras file and proves it with Keras 3; "
                            f"the installed Keras is {keras.__version__}")
    running = keras_adapter.running_semantics()
    if (plan_.source.semantics.mha_input_masks != running.mha_input_masks
            and shared_attention_inputs(plan_.reference_config)):
        raise CannotMigrate(
            f"{plan_.source.path}: a MultiHeadAttention reads a tensor that another layer "
            f"reads too, in a model that masks: Keras {keras.__version__} clears the masks of "
            "a MultiHeadAttention's inputs when it runs (divergence "
            "mha-clears-input-masks-keras-3.8), Keras "
            f"{plan_.source.keras_version or '?'} does not, so the migrated model would compute "
            "another function; give the other layer its own copy of the tensor (or the mask "
            "explicitly) in code and re-save, or migrate with Keras 3.4-3.7")
    tell = step or (lambda index, what: None)
    tell(0, "building")
    _resolve_initializers(plan_, keras)
    try:
        model = keras.models.model_from_json(json.dumps(plan_.document, default=_plain))
        for path, arrays in plan_.weights.items():
            if not arrays:  # weightless (an InputLayer is not among a Sequential's layers)
                continue
            layer: Any = model
            for name in path.split("/"):
                layer = layer.get_layer(name)
            layer.set_weights(arrays)
    except Exception as error:  # Keras's reasons are many; one line names it
        reason = str(error).strip().splitlines()[0][:300] if str(error).strip() else ""
        raise CannotMigrate(f"{plan_.source.path}: Keras {keras.__version__} cannot build the "
                            f"rewritten model: {type(error).__name__}: {reason}") from error
    partial = target.with_name(f".{target.name}.partial.keras")
    model.save(partial)
    try:
        tell(1, "reloading")
        loaded = keras.models.load_model(partial, compile=False, safe_mode=True)
        migrated = files.read(partial)
        rng = np.random.default_rng(seed)
        worst, ill = 0.0, 0
        mask_values = proof.mask_values(migrated)
        for sample in range(samples):
            tell(2 + sample, "proving")
            inputs = proof.sample_inputs(migrated, rng, timesteps=timesteps)
            x: Any = inputs[0] if len(inputs) == 1 else inputs
            actual = keras_adapter.call_model(loaded, x, predict=True)
            try:
                worst = max(worst, proof.check_against_forward(
                    actual, plan_.reference_config, plan_.reference_weights, x,
                    semantics=plan_.source.semantics, mask_values=mask_values,
                    label=str(plan_.source.path),
                    what=f"migrated model under Keras {keras.__version__} vs the original "
                         f"under {plan_.source.semantics.name} semantics"))
            except compare.IllConditioned:
                ill += 1
            except compare.Mismatch as error:
                reason = _semantic_reason(plan_, actual, x, mask_values, keras_adapter)
                return Result(target, False, sample, worst, plan_.changes,
                              f"{reason}mismatch on sample {sample} (seed {seed}):\n{error}")
        if ill == samples:
            return Result(target, False, 0, worst, plan_.changes,
                          "every batch was ill-conditioned: nothing could be proven")
        os.replace(partial, target)
        return Result(target, True, samples - ill, worst, plan_.changes)
    finally:
        if partial.exists():
            partial.unlink()


def shared_attention_inputs(config: Any) -> bool:
    """Whether a model (config) that masks has a MultiHeadAttention whose input tensor another
    layer also reads (where Keras >= 3.8's clearing of the inputs' masks can change it)."""
    from verify.model import _node_refs

    entries = [layer for layer in config.get("layers", []) if isinstance(layer, dict)]
    masks = any(layer.get("class_name") == "Masking" or (
        layer.get("class_name") == "Embedding" and layer.get("config", {}).get("mask_zero"))
        for layer in entries)
    readers: dict[Any, int] = {}
    attention_inputs = set()
    for layer in entries:
        for node in layer.get("inbound_nodes", []):
            refs = set(_node_refs(node))
            for ref in refs:
                readers[ref] = readers.get(ref, 0) + 1
            if layer.get("class_name") == "MultiHeadAttention":
                attention_inputs |= refs
    return masks and any(readers[ref] > 1 for ref in attention_inputs)


def _semantic_reason(plan_: Plan, actual: Any, x: Any, mask_values: list[float],
                     keras_adapter: Any) -> str:
    """Why the proof failed, when the cause is a named rule: the migrated model computes what
    ``forward`` computes under the *running* Keras's semantics, which differ from the file's
    (e.g. keras-nightly 3.16 passes no mask on after ``return_sequences``)."""
    from verify import compare

    running = keras_adapter.running_semantics()
    source = plan_.source.semantics
    fields = [name for name in ("mask_merge", "sequence_mask", "masked_output", "pool_padding",
                                "mha_input_masks")
              if getattr(running, name) != getattr(source, name)]
    if not fields:
        return ""
    try:
        proof.check_against_forward(actual, plan_.reference_config, plan_.reference_weights, x,
                              semantics=running, mask_values=mask_values, label="",
                              what="migrated model vs the original under this Keras's rules")
    except (compare.Mismatch, compare.IllConditioned):
        return ""
    from verify.model import forward

    def outputs(semantics: Any) -> list[np.ndarray]:
        result = forward(plan_.reference_config, plan_.reference_weights, x,
                         semantics=semantics)
        return result if isinstance(result, list) else [result]

    original = outputs(source)
    # The rules that matter for this model: changing that one alone changes the outputs.
    relevant = [name for name in fields if not all(
        np.allclose(a, b, rtol=1e-9, atol=1e-12) for a, b in zip(
            outputs(dataclasses.replace(source, **{name: getattr(running, name)})), original,
            strict=True))] or fields
    differences = ", ".join(f"{name} {getattr(source, name)!r} → {getattr(running, name)!r}"
                            for name in relevant)
    return (f"this Keras ({running.name} semantics) computes this model differently from the "
            f"Keras that wrote it ({source.name}): {differences} (verify.semantics; see the "
            "named divergences); the file is faithful, the function is not preserved here.\n")


def _resolve_initializers(plan_: Plan, keras: Any) -> None:
    """Initializer objects by a name the running Keras deserialises (see :data:`_ALIASES`);
    they never change the function computed, only how a layer would be re-initialised."""

    def walk(config: Any, path: str) -> None:
        if isinstance(config, list):
            for item in config:
                walk(item, path)
            return
        if not isinstance(config, dict):
            return
        if isinstance(config.get("config"), dict) and "class_name" in config:
            inner = config["config"]
            here = f"{path}/{inner['name']}" if isinstance(inner.get("name"), str) else path
            for key, value in inner.items():
                if key.endswith("_initializer") and isinstance(value, dict):
                    _resolve_one(plan_, keras, value, f"{here.strip('/')}: {key}")
        for value in config.values():
            walk(value, path)

    walk(plan_.document["config"].get("layers", []), "")


def _resolve_one(plan_: Plan, keras: Any, value: dict[str, Any], where: str) -> None:
    original = str(value.get("class_name"))
    for name in (original, *_ALIASES.get(original, ())):
        try:
            keras.initializers.get({**value, "class_name": name})
        except (ValueError, TypeError):
            continue
        if name != original:
            value["class_name"] = name
            plan_.changes.append(f"{where} {original!r} → {name!r} (the name Keras "
                                 f"{keras.__version__} deserialises)")
        return


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} into a model config")


__all__ = ["run"]
