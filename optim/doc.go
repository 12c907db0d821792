// Package optim holds the optimizer (AdamW with PyTorch's semantics), the
// learning-rate schedules of transformers, gradient clipping, and the
// optimizer state that a resumed run reloads.
//
// It works on named float32 slices and knows nothing about models: the
// trainer hands it the trainable parameters and their gradients.
package optim
