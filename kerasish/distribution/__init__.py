"""kerasish.distribution: Keras 3's DeviceMesh / TensorLayout / LayoutMap and DataParallel / ModelParallel on
jax.sharding, and multi-process start-up."""

from kerasish.distribution.mesh import DeviceMesh, LayoutMap, TensorLayout, get_device_count, list_devices
from kerasish.distribution.parallel import (DataParallel, Distribution, ModelParallel, distribute_tensor, distribution,
                                            initialize, set_distribution)

__all__ = ["DataParallel", "DeviceMesh", "Distribution", "LayoutMap", "ModelParallel", "TensorLayout",
           "distribute_tensor", "distribution", "get_device_count", "initialize", "list_devices", "set_distribution"]
