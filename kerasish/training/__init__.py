"""kerasish.training: the pure steps, the engine that compiles them, data batching and the loops."""
