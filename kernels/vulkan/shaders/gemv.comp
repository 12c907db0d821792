#version 450
#extension GL_GOOGLE_include_directive : require
// sgemm for few rows (M ≤ 8, decoding steps), B transposed (a Linear
// weight, N×K): one work group of 64 threads per output column n, which
// reads row n of B once, coalesced, for all M rows. Same bindings, push
// constants and epilogue as sgemm.comp.
#include "common.glsl"

layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer BufA { float A[]; };
layout(std430, binding = 1) readonly buffer BufB { float B[]; };
layout(std430, binding = 2) readonly buffer BufBias { float Bias[]; };
layout(std430, binding = 3) readonly buffer BufR { float R[]; };
layout(std430, binding = 4) writeonly buffer BufC { float C[]; };
layout(push_constant) uniform Params {
    uint M, N, K;
    uint lda, ldb, ldc, ldr;
    uint flags;
    float alpha;
    uint aPer, aStride, aOff;
    uint cPer, cStride, cOff;
} p;

const uint MAXM = 8u;
shared float red[MAXM][64];

void main() {
    uint t = gl_LocalInvocationID.x;
    uint n = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    if (n >= p.N) {
        return; // whole group: n is uniform
    }
    float acc[MAXM];
    uint arow[MAXM];
    for (uint m = 0u; m < MAXM; m++) {
        acc[m] = 0.0;
        arow[m] = m < p.M ? mapRow(m, p.aPer, p.aStride, p.aOff) * p.lda : 0u;
    }
    uint brow = n * p.ldb;
    for (uint k = t; k < p.K; k += 64u) {
        float b = B[brow + k];
        for (uint m = 0u; m < MAXM; m++) {
            if (m < p.M) {
                acc[m] = fma(A[arow[m] + k], b, acc[m]);
            }
        }
    }
    for (uint m = 0u; m < MAXM; m++) {
        red[m][t] = acc[m];
    }
    barrier();
    for (uint s = 32u; s > 0u; s >>= 1) {
        if (t < s) {
            for (uint m = 0u; m < MAXM; m++) {
                red[m][t] += red[m][t + s];
            }
        }
        barrier();
    }
    if (t < p.M) {
        uint m = t;
        float v = p.alpha * red[m][0];
        if ((p.flags & 2u) != 0u) {
            v += Bias[n];
        }
        v = activate(v, p.flags >> 8);
        if ((p.flags & 4u) != 0u) {
            v += R[m * p.ldr + n];
        }
        C[mapRow(m, p.cPer, p.cStride, p.cOff) * p.ldc + n] = v;
    }
}
