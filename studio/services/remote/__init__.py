"""Runs on other machines: follow, browse, copy back and launch over the system ``ssh`` client, and SLURM jobs.

Everything here shells out to the user's own ``ssh``/``scp`` so their ssh config applies (jump hosts,
ControlMaster, agents, host-key policy). ``BatchMode=yes`` is always set: the studio never asks for or stores a
password; keys and the ssh agent are the only credentials.
"""
