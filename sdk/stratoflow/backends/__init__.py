"""Backends: each consumes the IR (stratoflow.ir) and nothing from the definition layer."""
