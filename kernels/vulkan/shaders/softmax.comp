#version 450
// Row softmax, one work group of 64 threads per row (rows beyond the
// dispatch are walked in steps of the group count): y = exp(x-max)/Σ.
// A row of -Inf everywhere gives zeros, as kernels.Softmax.
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer BufX { float X[]; };
layout(std430, binding = 1) writeonly buffer BufY { float Y[]; };
layout(push_constant) uniform Params {
    uint rows, cols;
} p;

shared float red[64];

void main() {
    uint t = gl_LocalInvocationID.x;
    for (uint r = gl_WorkGroupID.x; r < p.rows; r += gl_NumWorkGroups.x) {
        uint base = r * p.cols;
        float mx = -1.0 / 0.0;
        for (uint j = t; j < p.cols; j += 64u) {
            mx = max(mx, X[base + j]);
        }
        red[t] = mx;
        barrier();
        for (uint s = 32u; s > 0u; s >>= 1) {
            if (t < s) {
                red[t] = max(red[t], red[t + s]);
            }
            barrier();
        }
        mx = red[0];
        barrier();
        if (isinf(mx) && mx < 0.0) {
            for (uint j = t; j < p.cols; j += 64u) {
                Y[base + j] = 0.0;
            }
            continue;
        }
        float sum = 0.0;
        for (uint j = t; j < p.cols; j += 64u) {
            sum += exp(X[base + j] - mx);
        }
        red[t] = sum;
        barrier();
        for (uint s = 32u; s > 0u; s >>= 1) {
            if (t < s) {
                red[t] += red[t + s];
            }
            barrier();
        }
        float inv = 1.0 / red[0];
        barrier();
        for (uint j = t; j < p.cols; j += 64u) {
            Y[base + j] = exp(X[base + j] - mx) * inv;
        }
    }
}
