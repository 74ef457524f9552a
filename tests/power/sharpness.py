"""How small a defect in Keras the suite still catches: the suite's sharpness, pinned.

A *defect* multiplies one gate block of Keras's own kernel by ``1 + relative`` at call time (a
simulated regression far below what a wrong equation does, just above float32 noise). The
report's runs of the forward, whole-model and gate-semantics properties under the ``ci``
profile must catch a defect of :data:`PINNED` (or :data:`PINNED_FOR`'s) for each of
:data:`TARGETS`; a loosened tolerance or a blunted strategy fails ``test_sharpness.py``.

``python -m tests.power.sharpness`` prints, per target, the smallest relative defect caught
from 1e-2 downwards (halving), and the examples needed.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from .catalogue import Fault, with_cell_weight
from .hunt import Outcome, hunt

#: The relative defect every cell kind's forward property must catch within the ci budget.
PINNED = 1e-4

#: Per check: the Keras layer class, the gate block scaled and the properties tried. The
#: forward properties; ``model_forward`` (Keras's model against verify.predict, the tolerance
#: of whole models); and the gate-semantics properties, whose tolerance must see a defect in
#: a block the saturated gate does not silence (gate_f closes f: c_t = i_t * g_t, so a
#: defect in i shows; gru_gate_r closes r: hh = act(x W_h + b_h), so one in h shows).
TARGETS: dict[str, tuple[str, str, int, tuple[str, ...]]] = {
    "LSTM": ("LSTM", "f", 1, ("lstm_forward",)),
    "GRU": ("GRU", "h", 2, ("gru_forward",)),
    "SimpleRNN": ("SimpleRNN", "h", 0, ("simple_rnn_forward",)),
    "LSTM in models": ("LSTM", "f", 1, ("model_forward",)),
    "LSTM gate semantics": ("LSTM", "i", 0, ("gate_f",)),
    "GRU gate semantics": ("GRU", "h", 2, ("gru_gate_r",)),
}
#: The pinned defect where it differs from :data:`PINNED`: whole models compare Keras's
#: float32 model with verify.predict under the data-scaled tolerance of deeper, wider
#: computations, and a saturated gate check sees a defect only through the unsaturated gates.
#: Measured smallest caught (ci, report runs, Keras 3.15.1/TF 2.21): LSTM 2e-5, models
#: 1.6e-4, LSTM gate semantics 3.1e-4, GRU gate semantics 1.6e-4 (``python -m
#: tests.power.sharpness``).
PINNED_FOR: dict[str, float] = {"LSTM in models": 1e-3, "LSTM gate semantics": 1e-3,
                                "GRU gate semantics": 1e-3}


def defect(check: str, relative: float) -> Fault:
    """Keras's layer computes with one kernel block scaled by ``1 + relative``."""
    cell, gate, block, targets = TARGETS[check]

    def scale(kernel: Any, units: int) -> Any:
        from .catalogue import _concat

        start, stop = block * units, (block + 1) * units
        return _concat([kernel[:, :start], kernel[:, start:stop] * (1.0 + relative),
                        kernel[:, stop:]], 1)

    return Fault(f"{check.lower().replace(' ', '_')}_kernel_{gate}_scaled_{relative:g}",
                 "keras",
                 f"Keras's {cell} kernel block {gate!r} scaled by 1 + {relative:g}", targets,
                 with_cell_weight("kernel", scale, cell))


def smallest_caught(cell: str, *, start: float = 1e-2, floor: float = 1e-7
                    ) -> list[tuple[float, Outcome]]:
    """Defects from ``start`` halving down to ``floor``, until one is missed."""
    results = []
    relative = start
    while relative >= floor:
        outcome = hunt(defect(cell, relative), report=True)
        results.append((relative, outcome))
        if not outcome.caught:
            break
        relative /= 2
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.power.sharpness",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--cell", action="append", choices=list(TARGETS), dest="cells")
    args = parser.parse_args(argv)
    for cell in args.cells or list(TARGETS):
        results = smallest_caught(cell)
        caught = [(relative, outcome) for relative, outcome in results if outcome.caught]
        for relative, outcome in results:
            state = (f"caught by {outcome.caught_by} in {outcome.examples} examples"
                     if outcome.caught else "missed")
            print(f"{cell:<10} relative {relative:.3g}: {state}", flush=True)
        if caught:
            relative, outcome = caught[-1]
            print(f"{cell}: smallest defect caught {relative:.3g} ({outcome.caught_by}, "
                  f"{outcome.examples} examples)\n", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
