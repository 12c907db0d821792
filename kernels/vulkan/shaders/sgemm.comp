#version 450
#extension GL_GOOGLE_include_directive : require
// Tiled sgemm with a fused epilogue, for Linear layers and the tests:
//   C[mapC(m), n] = act(alpha·Σ_k A[mapA(m), k]·op(B)[k, n] + bias[n]) + R[m, n]
// op(B) = Bᵀ (B is N×K, a torch Linear weight) when flags&1, else B (K×N).
// A 64×64 tile of C per work group of 16×16 threads, 4×4 values each;
// K is walked in slices of 16 staged in shared memory.
#include "common.glsl"

layout(local_size_x = 16, local_size_y = 16) in;
layout(std430, binding = 0) readonly buffer BufA { float A[]; };
layout(std430, binding = 1) readonly buffer BufB { float B[]; };
layout(std430, binding = 2) readonly buffer BufBias { float Bias[]; };
layout(std430, binding = 3) readonly buffer BufR { float R[]; };
layout(std430, binding = 4) writeonly buffer BufC { float C[]; };
layout(push_constant) uniform Params {
    uint M, N, K;
    uint lda, ldb, ldc, ldr;
    uint flags; // 1 transB, 2 bias, 4 residual, (act << 8)
    float alpha;
    uint aPer, aStride, aOff;
    uint cPer, cStride, cOff;
} p;

const uint BM = 64u, BN = 64u, BK = 16u;
shared float As[BK][BM + 1u];
shared float Bs[BK][BN + 1u];

void main() {
    uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
    uint tid = ty * 16u + tx;
    uint m0 = gl_WorkGroupID.y * BM, n0 = gl_WorkGroupID.x * BN;
    bool transB = (p.flags & 1u) != 0u;
    float acc[4][4];
    for (uint i = 0u; i < 4u; i++) {
        for (uint j = 0u; j < 4u; j++) {
            acc[i][j] = 0.0;
        }
    }
    for (uint k0 = 0u; k0 < p.K; k0 += BK) {
        for (uint i = 0u; i < 4u; i++) {
            uint idx = tid + i * 256u;
            uint mm = idx / BK, kk = idx % BK;
            uint gm = m0 + mm, gk = k0 + kk;
            As[kk][mm] = (gm < p.M && gk < p.K) ? A[mapRow(gm, p.aPer, p.aStride, p.aOff) * p.lda + gk] : 0.0;
            if (transB) {
                uint nn = idx / BK, kb = idx % BK;
                uint gn = n0 + nn, gkb = k0 + kb;
                Bs[kb][nn] = (gn < p.N && gkb < p.K) ? B[gn * p.ldb + gkb] : 0.0;
            } else {
                uint kb = idx / BN, nn = idx % BN;
                uint gn = n0 + nn, gkb = k0 + kb;
                Bs[kb][nn] = (gn < p.N && gkb < p.K) ? B[gkb * p.ldb + gn] : 0.0;
            }
        }
        barrier();
        for (uint kk = 0u; kk < BK; kk++) {
            float a[4], b[4];
            for (uint i = 0u; i < 4u; i++) {
                a[i] = As[kk][ty + 16u * i];
                b[i] = Bs[kk][tx + 16u * i];
            }
            for (uint i = 0u; i < 4u; i++) {
                for (uint j = 0u; j < 4u; j++) {
                    acc[i][j] = fma(a[i], b[j], acc[i][j]);
                }
            }
        }
        barrier();
    }
    uint act = p.flags >> 8;
    for (uint i = 0u; i < 4u; i++) {
        uint m = m0 + ty + 16u * i;
        if (m >= p.M) {
            continue;
        }
        uint crow = mapRow(m, p.cPer, p.cStride, p.cOff) * p.ldc;
        for (uint j = 0u; j < 4u; j++) {
            uint n = n0 + tx + 16u * j;
            if (n >= p.N) {
                continue;
            }
            float v = p.alpha * acc[i][j];
            if ((p.flags & 2u) != 0u) {
                v += Bias[n];
            }
            v = activate(v, act);
            if ((p.flags & 4u) != 0u) {
                v += R[m * p.ldr + n];
            }
            C[crow + n] = v;
        }
    }
}
