"""The plain-PyTorch engine behind ``run.engine: native``, and the lightning-free pieces both
engines share (device and precision resolution, compile with eager fallback).

Nothing in this package imports Lightning: the native path must run without it.
"""
