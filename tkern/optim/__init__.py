"""tkern.optim: optimizers with torch's API (fused kernels on cuda)."""
