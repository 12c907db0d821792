// Package kernels holds the numeric kernels of gitcap on plain slices.
//
// Every kernel has a pure-Go reference twin that is always compiled; faster
// variants (assembly, chosen at run time) are tested against it. The package
// imports nothing else of gitcap, so tensor, nn and gitmodel can build on it.
//
// Layout: matrices are row-major with an explicit leading dimension (the
// distance, in elements, between the starts of two consecutive rows):
//
//	A (m×k, lda ≥ k):  a[i*lda + p]   row i, column p
//	Aᵀ stored (k×m):   a[p*lda + i]   when transA is set
//
// Parallel kernels take a *Pool; a nil pool runs serially.
package kernels
