"""Device selection from the 1.x (gpus, tpu_cores, num_processes) and 2.x (accelerator, devices, strategy) flags."""

from trainer_core.accelerators.connector import DeviceChoice, choose_devices

__all__ = ["DeviceChoice", "choose_devices"]
