"""Compile: validated plant models -> the frozen parameter arrays the engine reads.

Units end here (hours, kW, metres); the engine never sees a config object.

``plant`` builds :class:`Params` for a batch of scenarios x replications (slots, distributions,
routing, failures, power); ``logistics`` the fleets and resource pools; ``flow`` the
traffic equations (visit ratios, offered loads) that the run checks for overload.
"""

from twin.compile.plant import Params, PowerPlan, compile_plant, compile_plants

__all__ = ["Params", "PowerPlan", "compile_plant", "compile_plants"]
