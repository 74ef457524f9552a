"""Suite power: a catalogue of seeded faults the properties must catch
(``python -m tests.power``; see the README's Reliability section)."""
