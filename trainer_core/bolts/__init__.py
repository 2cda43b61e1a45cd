"""Bolts-compatible extras: the common callbacks 1.x users add from PyTorch Lightning Bolts.

A Bolts user changes only the import: ``from pl_bolts.callbacks import ModuleDataMonitor`` becomes
``from trainer_core.bolts.callbacks import ModuleDataMonitor`` (class names and constructor arguments are Bolts').
"""
