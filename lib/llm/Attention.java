//COMPILE_OPTIONS --add-modules=jdk.incubator.vector
//RUNTIME_OPTIONS --add-modules=jdk.incubator.vector
package llm;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The attention math of a transformer block, in plain float loops: softmax, RMSNorm, SiLU, the causal
 * mask, scaled dot-product attention, multi-head / grouped-query attention, RoPE and a blockwise
 * attention with an online softmax (the idea behind Flash attention). The two inner loops that every
 * head runs at every position, {@link #dot} and {@link #weightedSum}, use the Vector API instead.
 *
 * <p>The same code serves two readers: the lessons print its steps on small matrices, and {@link Phi3}
 * runs it on every token. The kernels work on slices of flat arrays (an offset and a length) so that the
 * model can use them on its buffers and KV cache without copying; the {@code float[][]} methods at the
 * end are conveniences for the lessons that call the very same kernels.
 *
 * <p>KV cache layout used by the multi-head methods: the key of position {@code t}, KV head {@code g}
 * starts at {@code t * kvHeads * headSize + g * headSize} (the same for values).
 */
public final class Attention {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private Attention() {}

    /**
     * How RoPE pairs up the dimensions of a head. NEOX rotates element {@code i} with {@code i + d/2}
     * (GPT-NeoX and Hugging Face's {@code rotate_half}; llama.cpp uses it for phi3 files). NORM rotates
     * adjacent pairs {@code 2i, 2i+1} (the RoFormer paper; llama.cpp uses it for llama files, whose Q and K
     * rows the converter permuted to match).
     */
    public enum RopeStyle { NEOX, NORM }

    // ---------------------------------------------------------------------------------------------
    // Softmax, RMSNorm, SiLU

    /** Softmax of {@code x[off .. off+n)} in place. Subtracting the maximum first keeps exp from overflowing. */
    public static void softmax(float[] x, int off, int n) {
        if (n <= 0) return;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = off; i < off + n; i++) max = Math.max(max, x[i]);
        if (max == Float.NEGATIVE_INFINITY) { // everything masked: nothing to attend to, all weights 0
            java.util.Arrays.fill(x, off, off + n, 0f);
            return;
        }
        double sum = 0;
        for (int i = off; i < off + n; i++) {
            float e = (float) Math.exp(x[i] - max);
            x[i] = e;
            sum += e;
        }
        float inv = (float) (1.0 / sum);
        for (int i = off; i < off + n; i++) x[i] *= inv;
    }

    /** Softmax of a whole vector, in place; returns {@code x}. */
    public static float[] softmax(float[] x) {
        softmax(x, 0, x.length);
        return x;
    }

    /**
     * RMSNorm (Zhang and Sennrich 2019): {@code out = x / sqrt(mean(x²) + eps) * weight}. Unlike LayerNorm
     * it neither subtracts the mean nor adds a bias. {@code out} may be {@code x} (same offset).
     */
    public static void rmsNorm(float[] out, int outOff, float[] x, int xOff, float[] weight, int n, float eps) {
        double sumOfSquares = 0;
        for (int i = 0; i < n; i++) sumOfSquares += x[xOff + i] * x[xOff + i];
        float scale = (float) (1.0 / Math.sqrt(sumOfSquares / n + eps));
        for (int i = 0; i < n; i++) out[outOff + i] = x[xOff + i] * scale * weight[i];
    }

    /** SiLU (swish): {@code x · sigmoid(x)}, the activation of the gate in SwiGLU. */
    public static float silu(float x) {
        return (float) (x / (1.0 + Math.exp(-x)));
    }

    /** SwiGLU's gating: {@code out[i] = silu(gate[i]) * up[i]} for n elements. {@code out} may alias either input. */
    public static void swiGlu(float[] gate, int gateOff, float[] up, int upOff, float[] out, int outOff, int n) {
        for (int i = 0; i < n; i++) out[outOff + i] = silu(gate[gateOff + i]) * up[upOff + i];
    }

    // ---------------------------------------------------------------------------------------------
    // Masks

    /** Causal (autoregressive) rule: query position {@code query} may look at key position {@code key} only if key ≤ query. */
    public static boolean causal(int query, int key) {
        return key <= query;
    }

    /** The n×n additive causal mask: 0 where a query may look, -∞ above the diagonal (the future). */
    public static float[][] causalMask(int n) {
        float[][] mask = new float[n][n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) mask[i][j] = causal(i, j) ? 0f : Float.NEGATIVE_INFINITY;
        return mask;
    }

    // ---------------------------------------------------------------------------------------------
    // Scaled dot-product attention for one query over a slice of a KV cache

    /**
     * {@code a[aOff..aOff+n) · b[bOff..bOff+n)}, a vector of lanes at a time. (A plain loop adds one product
     * at a time, each addition waiting for the one before, since float addition is not associative and the
     * JIT keeps its order: at Phi-3's head size of 96 that made scoring a tenth of a decoded token's time.)
     */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        FloatVector sum = FloatVector.zero(F);
        int i = 0;
        for (int end = F.loopBound(n); i < end; i += F.length()) {
            sum = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), sum);
        }
        float rest = 0f;
        for (; i < n; i++) rest += a[aOff + i] * b[bOff + i];
        return sum.reduceLanes(VectorOperators.ADD) + rest;
    }

    /**
     * Attention scores of one query against {@code len} keys: {@code scores[t] = scale · q·k_t}, where key t
     * starts at {@code keys[kvOff + t*stride]}.
     */
    public static void scores(float[] q, int qOff, float[] keys, int kvOff, int stride, int len, int headSize,
                              float scale, float[] scores, int scoresOff) {
        for (int t = 0; t < len; t++) scores[scoresOff + t] = scale * dot(q, qOff, keys, kvOff + t * stride, headSize);
    }

    /**
     * The weighted sum of values: {@code out = Σ_t probs[t] · v_t}, value t at {@code values[kvOff + t*stride]}.
     * Position by position, a vector of lanes at a time.
     */
    public static void weightedSum(float[] probs, int probsOff, float[] values, int kvOff, int stride, int len,
                                   int headSize, float[] out, int outOff) {
        java.util.Arrays.fill(out, outOff, outOff + headSize, 0f);
        int vectors = F.loopBound(headSize);
        for (int t = 0; t < len; t++) {
            float p = probs[probsOff + t];
            FloatVector weight = FloatVector.broadcast(F, p);
            int v = kvOff + t * stride, i = 0;
            for (; i < vectors; i += F.length()) {
                FloatVector sum = FloatVector.fromArray(F, out, outOff + i);
                FloatVector.fromArray(F, values, v + i).fma(weight, sum).intoArray(out, outOff + i);
            }
            for (; i < headSize; i++) out[outOff + i] += p * values[v + i];
        }
    }

    /**
     * Scaled dot-product attention (Vaswani et al. 2017) for one query: {@code softmax(scale · q·Kᵀ) · V}
     * over keys/values {@code 0 .. len-1} of a cache slice. The causal mask is implicit: a caller passes
     * only the positions the query may see. The attention weights are left in {@code probs[probsOff ..
     * probsOff+len)}, so a caller can show them.
     */
    public static void attend(float[] q, int qOff, float[] keys, float[] values, int kvOff, int stride, int len,
                              int headSize, float scale, float[] probs, int probsOff, float[] out, int outOff) {
        scores(q, qOff, keys, kvOff, stride, len, headSize, scale, probs, probsOff);
        softmax(probs, probsOff, len);
        weightedSum(probs, probsOff, values, kvOff, stride, len, headSize, out, outOff);
    }

    /**
     * Multi-head attention with grouped-query sharing of keys and values (Ainslie et al. 2023) for one
     * query position. {@code q} holds {@code heads} query heads of {@code headSize}; the caches hold
     * {@code kvHeads} heads per position (layout in the class comment). Query head h uses KV head
     * {@code h / (heads / kvHeads)}: kvHeads = heads is multi-head attention, kvHeads = 1 multi-query
     * attention. Head h's weights are left in {@code probs[h*probsStride ..+len)}; the heads' outputs are
     * concatenated into {@code out[outOff ..+heads*headSize)}.
     */
    public static void groupedQueryAttention(float[] q, int qOff, float[] keys, float[] values, int len,
                                             int heads, int kvHeads, int headSize, float scale,
                                             float[] probs, int probsStride, float[] out, int outOff) {
        groupedQueryAttention(q, qOff, keys, values, len, heads, kvHeads, headSize, scale, probs, probsStride, out, outOff, 0, heads);
    }

    /**
     * {@link #groupedQueryAttention} for query heads {@code fromHead .. toHead-1} only: the heads are
     * independent, so threads can take a share each.
     */
    public static void groupedQueryAttention(float[] q, int qOff, float[] keys, float[] values, int len,
                                             int heads, int kvHeads, int headSize, float scale,
                                             float[] probs, int probsStride, float[] out, int outOff, int fromHead, int toHead) {
        if (kvHeads <= 0 || heads % kvHeads != 0)
            throw new IllegalArgumentException("query heads (" + heads + ") must be a multiple of KV heads (" + kvHeads + ")");
        java.util.Objects.checkFromToIndex(fromHead, toHead, heads);
        int group = heads / kvHeads;
        int stride = kvHeads * headSize;
        for (int h = fromHead; h < toHead; h++) {
            int kvHead = h / group;
            attend(q, qOff + h * headSize, keys, values, kvHead * headSize, stride, len, headSize, scale,
                    probs, h * probsStride, out, outOff + h * headSize);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Blockwise attention with an online softmax

    /**
     * The same result as {@link #attend} but computed block by block, holding only {@code blockSize} scores
     * at a time (Milakov and Gimelshein 2018; the idea behind Flash attention and Ring attention). A
     * running maximum m and running denominator l are kept; when a block raises the maximum, what was
     * summed so far is rescaled by exp(m_old − m_new). {@code blockScores} needs {@code blockSize} floats.
     */
    public static void blockwiseAttend(float[] q, int qOff, float[] keys, float[] values, int kvOff, int stride,
                                       int len, int headSize, float scale, int blockSize, float[] blockScores,
                                       float[] out, int outOff) {
        if (blockSize <= 0) throw new IllegalArgumentException("block size must be positive, got " + blockSize);
        float runningMax = Float.NEGATIVE_INFINITY;
        double runningSum = 0;
        java.util.Arrays.fill(out, outOff, outOff + headSize, 0f);
        for (int start = 0; start < len; start += blockSize) {
            int n = Math.min(blockSize, len - start);
            scores(q, qOff, keys, kvOff + start * stride, stride, n, headSize, scale, blockScores, 0);
            float blockMax = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) blockMax = Math.max(blockMax, blockScores[j]);
            float newMax = Math.max(runningMax, blockMax);
            // Rescale what was accumulated under the old maximum.
            float correction = runningMax == Float.NEGATIVE_INFINITY ? 0f : (float) Math.exp(runningMax - newMax);
            runningSum *= correction;
            for (int i = 0; i < headSize; i++) out[outOff + i] *= correction;
            for (int j = 0; j < n; j++) {
                float w = (float) Math.exp(blockScores[j] - newMax);
                runningSum += w;
                int v = kvOff + (start + j) * stride;
                for (int i = 0; i < headSize; i++) out[outOff + i] += w * values[v + i];
            }
            runningMax = newMax;
        }
        if (runningSum > 0) {
            float inv = (float) (1.0 / runningSum);
            for (int i = 0; i < headSize; i++) out[outOff + i] *= inv;
        }
    }

    // ---------------------------------------------------------------------------------------------
    // RoPE: rotary position embedding (Su et al. 2021)

    /**
     * The rotation angles at position {@code pos}: pair i (of {@code nRot/2}) turns by
     * {@code pos · base^(−2i/nRot)}. Their cos and sin go to {@code cos/sin[off ..+nRot/2)}; a model computes
     * them once per token and uses them in every layer and head.
     */
    public static void ropeAngles(int pos, int nRot, float base, float[] cos, float[] sin, int off) {
        for (int i = 0; i < nRot / 2; i++) {
            double theta = pos * Math.pow(base, -2.0 * i / nRot);
            cos[off + i] = (float) Math.cos(theta);
            sin[off + i] = (float) Math.sin(theta);
        }
    }

    /**
     * Rotates the first {@code nRot} dimensions of one head {@code x[off ..)} by the angles from
     * {@link #ropeAngles} (dimensions past nRot are left alone, as in partial rotary models).
     */
    public static void rope(float[] x, int off, int nRot, float[] cos, float[] sin, int anglesOff, RopeStyle style) {
        int half = nRot / 2;
        for (int i = 0; i < half; i++) {
            // NEOX pairs i with i + nRot/2; NORM pairs 2i with 2i+1. Both turn pair i by the same angle.
            int a = style == RopeStyle.NEOX ? off + i : off + 2 * i;
            int b = style == RopeStyle.NEOX ? off + i + half : off + 2 * i + 1;
            float c = cos[anglesOff + i], s = sin[anglesOff + i];
            float x0 = x[a], x1 = x[b];
            x[a] = x0 * c - x1 * s;
            x[b] = x0 * s + x1 * c;
        }
    }

    /** RoPE on a whole vector seen as one head at position {@code pos} (for the lessons). Returns x. */
    public static float[] rope(float[] x, int pos, float base, RopeStyle style) {
        float[] cos = new float[x.length / 2], sin = new float[x.length / 2];
        ropeAngles(pos, x.length, base, cos, sin, 0);
        rope(x, 0, x.length, cos, sin, 0, style);
        return x;
    }

    // ---------------------------------------------------------------------------------------------
    // Whole-sequence conveniences for the lessons (same kernels as above)

    /**
     * Multi-head / grouped-query attention over a whole sequence: {@code q[n][heads*headSize]},
     * {@code k} and {@code v} {@code [n][kvHeads*headSize]}, scale 1/√headSize. With {@code causal}, position
     * i sees positions 0..i. If {@code weights} is not null it receives {@code weights[h][i][j]}, the
     * attention of query i on key j in head h (zero where masked). Returns {@code [n][heads*headSize]}.
     */
    public static float[][] multiHeadAttention(float[][] q, float[][] k, float[][] v, int heads, int kvHeads,
                                               boolean causal, float[][][] weights) {
        int n = q.length;
        int headSize = q[0].length / heads;
        float[] keys = flatten(k), values = flatten(v);
        float[] probs = new float[heads * n];
        float scale = (float) (1.0 / Math.sqrt(headSize));
        float[][] out = new float[n][heads * headSize];
        for (int i = 0; i < n; i++) {
            int len = causal ? i + 1 : k.length;
            java.util.Arrays.fill(probs, 0f);
            groupedQueryAttention(q[i], 0, keys, values, len, heads, kvHeads, headSize, scale, probs, n, out[i], 0);
            if (weights != null)
                for (int h = 0; h < heads; h++) System.arraycopy(probs, h * n, weights[h][i], 0, k.length);
        }
        return out;
    }

    /**
     * Single-head scaled dot-product attention {@code softmax(Q·Kᵀ/√d + mask) · V} for a whole sequence,
     * with an optional additive {@code mask[n][m]} (0 or -∞, e.g. {@link #causalMask}). If {@code weights}
     * is not null it receives the attention weights {@code [n][m]}.
     */
    public static float[][] scaledDotProductAttention(float[][] q, float[][] k, float[][] v, float[][] mask,
                                                      float[][] weights) {
        int n = q.length, m = k.length, d = q[0].length, dv = v[0].length;
        float[] keys = flatten(k), values = flatten(v);
        float scale = (float) (1.0 / Math.sqrt(d));
        float[][] out = new float[n][dv];
        float[] row = new float[m];
        for (int i = 0; i < n; i++) {
            scores(q[i], 0, keys, 0, d, m, d, scale, row, 0);
            if (mask != null) for (int j = 0; j < m; j++) row[j] += mask[i][j];
            softmax(row, 0, m);
            weightedSum(row, 0, values, 0, dv, m, dv, out[i], 0);
            if (weights != null) System.arraycopy(row, 0, weights[i], 0, m);
        }
        return out;
    }

    /** Like {@link #scaledDotProductAttention} (single head, optional causal rule) but with {@link #blockwiseAttend}. */
    public static float[][] blockwiseAttention(float[][] q, float[][] k, float[][] v, boolean causal, int blockSize) {
        int n = q.length, d = q[0].length;
        if (v[0].length != d) throw new IllegalArgumentException("blockwise attention needs values as wide as keys");
        float[] keys = flatten(k), values = flatten(v);
        float scale = (float) (1.0 / Math.sqrt(d));
        float[] block = new float[blockSize];
        float[][] out = new float[n][d];
        for (int i = 0; i < n; i++)
            blockwiseAttend(q[i], 0, keys, values, 0, d, causal ? i + 1 : k.length, d, scale, blockSize, block, out[i], 0);
        return out;
    }

    private static float[] flatten(float[][] rows) {
        int width = rows[0].length;
        float[] flat = new float[rows.length * width];
        for (int i = 0; i < rows.length; i++) System.arraycopy(rows[i], 0, flat, i * width, width);
        return flat;
    }
}
