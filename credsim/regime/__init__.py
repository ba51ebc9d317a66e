"""Regime files: the schema, loading and presets."""

from credsim.regime.load import RegimeError, dump_regime, load_regime, presets, regime_hash
from credsim.regime.schema import Regime

__all__ = ["Regime", "RegimeError", "dump_regime", "load_regime", "presets", "regime_hash"]
