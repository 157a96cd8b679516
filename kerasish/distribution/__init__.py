"""kerasish.distribution: Keras 3's DataParallel / ModelParallel on jax.sharding, and multi-process start-up."""

from kerasish.distribution.mesh import (DataParallel, DeviceMesh, Distribution, LayoutMap, ModelParallel,
                                        distribution, initialize, list_devices, set_distribution)

__all__ = ["DataParallel", "DeviceMesh", "Distribution", "LayoutMap", "ModelParallel", "distribution",
           "initialize", "list_devices", "set_distribution"]
