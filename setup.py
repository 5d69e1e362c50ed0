"""The compiled part of qwopkit: openqwop's physics core (a C extension, built by `pip install`).

Everything else is in pyproject.toml. Floating-point contraction is off so that a*b+c is never
fused into one rounding: the core must compute the same float64 numbers as the original game's
JavaScript (docs/decisions.md, "The physics core").
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "qwopkit.adapter.openqwop._physics",
            sources=["qwopkit/adapter/openqwop/csrc/physics.c", "qwopkit/adapter/openqwop/csrc/module.c"],
            depends=["qwopkit/adapter/openqwop/csrc/world.h"],
            extra_compile_args=["-O2", "-ffp-contract=off", "-fno-math-errno"],
            libraries=["m"],
        )
    ]
)
