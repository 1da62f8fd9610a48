package llm;

/**
 * An activation vector quantized the way llama.cpp quantizes it before a Q4_0 or Q8_0 product (its
 * block_q8_0): per block of 32 values a scale d = max|x| / 127 and 32 integers round(x / d) in [-127, 127],
 * here widened to 16 bits and stored in the lane order of the repacked weight rows (see {@link #index}),
 * so that the integer kernels read them front to back. Also keeps 8 * d * sum(q) per block, the
 * correction Q4_0's kernel needs for multiplying with unsigned nibbles (q - 8 = nibble - 8).
 *
 * <p>Rounding x to 8 bits is the only approximation of the integer route: per element at most d / 2, a
 * relative error of at most 1/254 of the block's largest value.
 */
final class Q8Activations {

    /** Blocks of 32 per group: a repacked row is a sequence of groups of 16 blocks (512 values). */
    static final int GROUP = 512;

    short[] q = new short[0];
    float[] d = new float[0];
    float[] sum8 = new float[0];

    /**
     * Where element i (0..31) of block b goes: within a group, the 8 blocks of each half share 16-bit lanes
     * two by two (lanes 2j and 2j+1 belong to block j), and a vector of 16 lanes holds elements 4c + 2h + k
     * of those 8 blocks (h = lane % 2; c = chunk 0..7, k = 0..1 the two vectors of a chunk).
     */
    static int index(int b, int i) {
        int g = b >> 4, half = (b >> 3) & 1, j = b & 7;
        int c = i >> 2, h = (i >> 1) & 1, k = i & 1;
        return g * GROUP + half * 256 + (c * 2 + k) * 16 + 2 * j + h;
    }

    /** Quantizes x[offset ..+cols) (cols a multiple of 512) into this object's arrays (grown, never shrunk). */
    Q8Activations quantize(float[] x, int offset, int cols) {
        if (q.length < cols) {
            q = new short[cols];
            d = new float[cols / 32];
            sum8 = new float[cols / 32];
        }
        for (int b = 0; b < cols / 32; b++) {
            int from = offset + b * 32;
            float amax = 0f;
            for (int i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(x[from + i]));
            float scale = amax / 127f;
            float inverse = scale != 0f ? 1f / scale : 0f;
            int sum = 0;
            for (int i = 0; i < 32; i++) {
                int v = Math.round(x[from + i] * inverse);
                v = Math.max(-127, Math.min(127, v)); // x * (127 / amax) can round one ulp past 127
                q[index(b, i)] = (short) v;
                sum += v;
            }
            d[b] = scale;
            sum8[b] = 8f * scale * sum;
        }
        return this;
    }

    /** The value element i of block b stands for: q * d. */
    float value(int b, int i) {
        return q[index(b, i)] * d[b];
    }

    // One set per token of a batch, per calling thread: matrix products allocate nothing once warm.
    private static final ThreadLocal<Q8Activations[]> CACHE = ThreadLocal.withInitial(() -> new Q8Activations[0]);

    /** n activation buffers for the calling thread (the same objects on every call). */
    static Q8Activations[] buffers(int n) {
        Q8Activations[] a = CACHE.get();
        if (a.length < n) {
            Q8Activations[] grown = java.util.Arrays.copyOf(a, n);
            for (int i = a.length; i < n; i++) grown[i] = new Q8Activations();
            CACHE.set(grown);
            a = grown;
        }
        return a;
    }
}
