// Helpers shared by the compute shaders (included, not compiled alone).

// mapRow places logical row r of a matrix: rows come in blocks of per,
// block i starting at physical row i*stride + off. per == 0 is the
// identity. It lets a matmul read each sequence's last row, or write
// keys and values straight into a KV cache with spare room.
uint mapRow(uint r, uint per, uint stride, uint off) {
    return per == 0u ? r : (r / per) * stride + off + r % per;
}

// erfc(x) with fractional error below 1.2e-7 everywhere (Numerical
// Recipes' erfcc, a Chebyshev fit), so GELU keeps full relative precision
// for negative x as the CPU's 0.5·x·erfc(−x/√2) does.
float erfc_(float x) {
    float z = abs(x);
    float t = 1.0 / (1.0 + 0.5 * z);
    float r = t * exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
              t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
              t * (-0.82215223 + t * 0.17087277)))))))));
    return x >= 0.0 ? r : 2.0 - r;
}

// Activations: 0 none, 1 exact GELU (BERT), 2 quick_gelu (CLIP).
float activate(float x, uint act) {
    if (act == 1u) {
        return 0.5 * x * erfc_(-x * 0.70710678118654752);
    }
    if (act == 2u) {
        return x / (1.0 + exp(-1.702 * x));
    }
    return x;
}
