#version 450
// Text embeddings before their LayerNorm: row r (sequence position r % t)
// is word[ids[r]] + pos[pos0 + r % t]; ids (rows) int32 → Y (rows, D).
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer BufIds { int Ids[]; };
layout(std430, binding = 1) readonly buffer BufW { float W[]; };
layout(std430, binding = 2) readonly buffer BufPos { float Pos[]; };
layout(std430, binding = 3) writeonly buffer BufY { float Y[]; };
layout(push_constant) uniform Params {
    uint rows, t, pos0, d;
} p;

void main() {
    uint n = p.rows * p.d;
    uint stride = gl_NumWorkGroups.x * 256u;
    for (uint i = gl_GlobalInvocationID.x; i < n; i += stride) {
        uint r = i / p.d, c = i % p.d;
        Y[i] = W[uint(Ids[r]) * p.d + c] + Pos[(p.pos0 + r % p.t) * p.d + c];
    }
}
