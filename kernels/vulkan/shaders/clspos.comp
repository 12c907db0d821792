#version 450
// CLIP embeddings: the class token in front of each image's patches, then
// the learned positions: X[b, t] = (t == 0 ? cls : P[b, t-1]) + pos[t],
// P (B·np, D) → X (B·(np+1), D).
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer BufP { float P[]; };
layout(std430, binding = 1) readonly buffer BufCls { float Cls[]; };
layout(std430, binding = 2) readonly buffer BufPos { float Pos[]; };
layout(std430, binding = 3) writeonly buffer BufX { float X[]; };
layout(push_constant) uniform Params {
    uint b, np, d;
} p;

void main() {
    uint n = p.b * (p.np + 1u) * p.d;
    uint stride = gl_NumWorkGroups.x * 256u;
    for (uint i = gl_GlobalInvocationID.x; i < n; i += stride) {
        uint row = i / p.d, c = i % p.d;
        uint bi = row / (p.np + 1u), t = row % (p.np + 1u);
        float v = t == 0u ? Cls[c] : P[(bi * p.np + t - 1u) * p.d + c];
        X[i] = v + Pos[t * p.d + c];
    }
}
