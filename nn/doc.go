// Package nn holds gitcap's layers (Linear, LayerNorm, Embedding) and the
// prefix-scoped weight loader that fills them from checkpoint tensors.
//
// Layers work on row-major float32 buffers: an activation of shape (N, C) is
// a []float32 of N·C values, row n at [n*C : (n+1)*C]. Each Forward documents
// its shapes. Parallel work goes through the *kernels.Pool passed in (nil:
// serial); the package keeps no global state.
package nn
