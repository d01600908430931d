"""Keras's mixed precision API: dtype policies.

``set_global_policy("mixed_bfloat16")`` makes the layers created afterwards
run their matrix products on bfloat16 operands with float32 sums (on the
CPU's AVX512_BF16 instructions where it has them), with weights, states and
outputs in float32. ``"float32"`` restores the default. A layer's
``dtype=`` argument sets its own policy.
"""

from seqnet import _seqnet


class Policy:
    """A dtype policy: ``"float32"`` or ``"mixed_bfloat16"``."""

    def __init__(self, name):
        if isinstance(name, Policy):
            name = name.name
        if not isinstance(name, str):
            raise TypeError(f"Policy: the name must be a string, got {type(name).__name__}")
        _seqnet.check_policy(name)
        self._name = name

    @property
    def name(self):
        return self._name

    @property
    def compute_dtype(self):
        return "bfloat16" if self._name == "mixed_bfloat16" else "float32"

    @property
    def variable_dtype(self):
        return "float32"

    def get_config(self):
        return {"name": self._name}

    def __eq__(self, other):
        return isinstance(other, Policy) and other.name == self.name

    def __hash__(self):
        return hash(self._name)

    def __repr__(self):
        return f'<Policy "{self._name}">'


def set_global_policy(policy):
    """Sets the policy of the layers created from now on (a name or a Policy)."""
    _seqnet.set_global_policy(Policy(policy).name)


def global_policy():
    """The global Policy."""
    return Policy(_seqnet.global_policy_name())


__all__ = ["Policy", "set_global_policy", "global_policy"]
