import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import llm.Attention;
import llm.Attention.RopeStyle;
import org.junit.jupiter.api.Test;

/** The attention math of lib/llm/Attention.java against values worked out by hand or by plain formulas. */
class AttentionTest {

    private static final Random RANDOM = new Random(42);

    private static float[][] random(int rows, int cols) {
        float[][] m = new float[rows][cols];
        for (float[] row : m) for (int j = 0; j < cols; j++) row[j] = (float) RANDOM.nextGaussian();
        return m;
    }

    private static float[] random(int n) {
        return random(1, n)[0];
    }

    private static void assertClose(float[][] expected, float[][] actual, double tolerance) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++)
            for (int j = 0; j < expected[i].length; j++)
                assertEquals(expected[i][j], actual[i][j], tolerance, "row " + i + ", column " + j);
    }

    @Test
    void softmaxMatchesTheFormulaAndSumsToOne() {
        float[] x = {1f, 2f, 3f};
        Attention.softmax(x);
        double z = Math.exp(1) + Math.exp(2) + Math.exp(3);
        assertEquals(Math.exp(1) / z, x[0], 1e-7);
        assertEquals(Math.exp(2) / z, x[1], 1e-7);
        assertEquals(Math.exp(3) / z, x[2], 1e-7);

        float[] big = random(1000);
        for (int i = 0; i < big.length; i++) big[i] *= 30;
        Attention.softmax(big);
        double sum = 0;
        for (float p : big) sum += p;
        assertEquals(1.0, sum, 1e-5);
    }

    @Test
    void softmaxIsStableForHugeLogitsAndWorksOnASlice() {
        float[] x = {7f, 1000f, 1001f, 1002f, 7f};
        Attention.softmax(x, 1, 3); // only the middle three
        double z = 1 + Math.exp(1) + Math.exp(2);
        assertEquals(1 / z, x[1], 1e-7);
        assertEquals(Math.exp(2) / z, x[3], 1e-7);
        assertEquals(7f, x[0]);
        assertEquals(7f, x[4]);
    }

    @Test
    void rmsNormDividesByTheRootMeanSquare() {
        float[] out = new float[2];
        Attention.rmsNorm(out, 0, new float[] {3f, 4f}, 0, new float[] {1f, 2f}, 2, 0f);
        double rms = Math.sqrt((9 + 16) / 2.0);
        assertEquals(3 / rms, out[0], 1e-6);
        assertEquals(2 * 4 / rms, out[1], 1e-6);
    }

    @Test
    void siluIsXTimesSigmoid() {
        assertEquals(0f, Attention.silu(0f));
        assertEquals(1 / (1 + Math.exp(-1)), Attention.silu(1f), 1e-7);
        assertEquals(-2 / (1 + Math.exp(2)), Attention.silu(-2f), 1e-7);
        float[] out = new float[1];
        Attention.swiGlu(new float[] {1f}, 0, new float[] {3f}, 0, out, 0, 1);
        assertEquals(3 / (1 + Math.exp(-1)), out[0], 1e-6);
    }

    @Test
    void causalMaskHidesTheFuture() {
        float[][] mask = Attention.causalMask(3);
        assertArrayEquals(new float[] {0, Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY}, mask[0]);
        assertArrayEquals(new float[] {0, 0, Float.NEGATIVE_INFINITY}, mask[1]);
        assertArrayEquals(new float[] {0, 0, 0}, mask[2]);

        // With the mask, the first output is exactly the first value, and changing later keys/values
        // changes nothing before them.
        float[][] q = random(4, 8), k = random(4, 8), v = random(4, 8);
        float[][] weights = new float[4][4];
        float[][] out = Attention.scaledDotProductAttention(q, k, v, Attention.causalMask(4), weights);
        assertArrayEquals(v[0], out[0], 1e-6f);
        assertEquals(0f, weights[1][2]);
        assertEquals(0f, weights[1][3]);
        assertEquals(1.0, weights[1][0] + weights[1][1], 1e-6);
        k[3] = random(8);
        v[3] = random(8);
        float[][] changed = Attention.scaledDotProductAttention(q, k, v, Attention.causalMask(4), null);
        for (int i = 0; i < 3; i++) assertArrayEquals(out[i], changed[i], 0f);
        assertNotEquals(out[3][0], changed[3][0]);
    }

    @Test
    void scaledDotProductAttentionMatchesTheFormula() {
        float[][] q = random(3, 4), k = random(5, 4), v = random(5, 2);
        float[][] out = Attention.scaledDotProductAttention(q, k, v, null, null);
        for (int i = 0; i < 3; i++) {
            double[] w = new double[5];
            double z = 0;
            for (int j = 0; j < 5; j++) {
                double s = 0;
                for (int d = 0; d < 4; d++) s += q[i][d] * k[j][d];
                w[j] = Math.exp(s / 2.0); // √4 = 2
                z += w[j];
            }
            for (int c = 0; c < 2; c++) {
                double expected = 0;
                for (int j = 0; j < 5; j++) expected += w[j] / z * v[j][c];
                assertEquals(expected, out[i][c], 1e-5);
            }
        }
    }

    /** Each query head h separately, with the KV head HF's repeat_kv gives it (h / group). */
    private static float[][] perHead(float[][] q, float[][] k, float[][] v, int heads, int kvHeads, boolean causal) {
        int n = q.length, hs = q[0].length / heads, group = heads / kvHeads;
        float[][] out = new float[n][heads * hs];
        for (int h = 0; h < heads; h++) {
            int g = h / group;
            float[][] qh = new float[n][hs], kh = new float[n][hs], vh = new float[n][hs];
            for (int i = 0; i < n; i++) {
                System.arraycopy(q[i], h * hs, qh[i], 0, hs);
                System.arraycopy(k[i], g * hs, kh[i], 0, hs);
                System.arraycopy(v[i], g * hs, vh[i], 0, hs);
            }
            float[][] oh = Attention.scaledDotProductAttention(qh, kh, vh, causal ? Attention.causalMask(n) : null, null);
            for (int i = 0; i < n; i++) System.arraycopy(oh[i], 0, out[i], h * hs, hs);
        }
        return out;
    }

    @Test
    void groupedQueryAttentionWithAsManyGroupsAsHeadsIsMultiHeadAttention() {
        int n = 6, heads = 4, hs = 8;
        float[][] q = random(n, heads * hs), k = random(n, heads * hs), v = random(n, heads * hs);
        float[][][] weights = new float[heads][n][n];
        float[][] gqa = Attention.multiHeadAttention(q, k, v, heads, heads, true, weights);
        assertClose(perHead(q, k, v, heads, heads, true), gqa, 1e-6);
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < n; i++) {
                double sum = 0;
                for (float w : weights[h][i]) sum += w;
                assertEquals(1.0, sum, 1e-6, "head " + h + " row " + i);
            }
    }

    @Test
    void groupedQueryAttentionWithOneGroupIsMultiQueryAttention() {
        int n = 5, heads = 4, hs = 8;
        float[][] q = random(n, heads * hs), k = random(n, hs), v = random(n, hs);
        float[][] mqa = Attention.multiHeadAttention(q, k, v, heads, 1, false, null);
        // Multi-query: every head uses the single K and V.
        for (int h = 0; h < heads; h++) {
            float[][] qh = new float[n][hs];
            for (int i = 0; i < n; i++) System.arraycopy(q[i], h * hs, qh[i], 0, hs);
            float[][] oh = Attention.scaledDotProductAttention(qh, k, v, null, null);
            for (int i = 0; i < n; i++)
                for (int d = 0; d < hs; d++) assertEquals(oh[i][d], mqa[i][h * hs + d], 1e-6);
        }
    }

    @Test
    void groupedQueryAttentionEqualsMultiHeadOnRepeatedKeysAndValues() {
        int n = 7, heads = 6, kvHeads = 2, hs = 4, group = heads / kvHeads;
        float[][] q = random(n, heads * hs), k = random(n, kvHeads * hs), v = random(n, kvHeads * hs);
        // repeat_kv: KV head g serves query heads g*group .. g*group+group-1
        float[][] kRep = new float[n][heads * hs], vRep = new float[n][heads * hs];
        for (int i = 0; i < n; i++)
            for (int h = 0; h < heads; h++) {
                System.arraycopy(k[i], (h / group) * hs, kRep[i], h * hs, hs);
                System.arraycopy(v[i], (h / group) * hs, vRep[i], h * hs, hs);
            }
        assertClose(Attention.multiHeadAttention(q, kRep, vRep, heads, heads, true, null),
                Attention.multiHeadAttention(q, k, v, heads, kvHeads, true, null), 1e-6);
        assertClose(perHead(q, k, v, heads, kvHeads, true), Attention.multiHeadAttention(q, k, v, heads, kvHeads, true, null), 1e-6);
        assertThrows(IllegalArgumentException.class, () -> Attention.multiHeadAttention(q, random(n, 4 * hs), random(n, 4 * hs), heads, 4, true, null));
    }

    @Test
    void groupedQueryAttentionOverRangesOfHeadsEqualsAllHeadsAtOnce() {
        int len = 9, heads = 6, kvHeads = 2, hs = 8, kvDim = kvHeads * hs;
        float[] q = random(heads * hs), keys = random(len * kvDim), values = random(len * kvDim);
        float[] all = new float[heads * hs], split = new float[heads * hs];
        float[] allProbs = new float[heads * len], splitProbs = new float[heads * len];
        Attention.groupedQueryAttention(q, 0, keys, values, len, heads, kvHeads, hs, 0.3f, allProbs, len, all, 0);
        // what two threads do: heads 0..3 and 4..5, the second first
        Attention.groupedQueryAttention(q, 0, keys, values, len, heads, kvHeads, hs, 0.3f, splitProbs, len, split, 0, 4, 6);
        for (int i = 0; i < 4 * hs; i++) assertEquals(0f, split[i], "heads 0..3 are not this call's");
        Attention.groupedQueryAttention(q, 0, keys, values, len, heads, kvHeads, hs, 0.3f, splitProbs, len, split, 0, 0, 4);
        assertArrayEquals(all, split, 0f);
        assertArrayEquals(allProbs, splitProbs, 0f);
        assertThrows(IndexOutOfBoundsException.class,
                () -> Attention.groupedQueryAttention(q, 0, keys, values, len, heads, kvHeads, hs, 0.3f, splitProbs, len, split, 0, 4, 7));
    }

    @Test
    void blockwiseOnlineSoftmaxEqualsFullAttention() {
        int n = 37, d = 16;
        float[][] q = random(n, d), k = random(n, d), v = random(n, d);
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) q[i][j] *= 3; // sharper weights: the rescaling matters
        for (boolean causal : new boolean[] {false, true}) {
            float[][] full = Attention.scaledDotProductAttention(q, k, v, causal ? Attention.causalMask(n) : null, null);
            for (int block : new int[] {1, 4, 7, 64}) {
                float[][] blockwise = Attention.blockwiseAttention(q, k, v, causal, block);
                double maxError = 0;
                for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) maxError = Math.max(maxError, Math.abs(full[i][j] - blockwise[i][j]));
                assertTrue(maxError <= 1e-6, "block " + block + (causal ? " causal" : "") + ": max error " + maxError);
            }
        }
    }

    @Test
    void ropeRotatesPairsByPositionTimesFrequency() {
        int d = 8;
        float base = 10000f;
        for (RopeStyle style : RopeStyle.values()) {
            for (int pair = 0; pair < d / 2; pair++) {
                int a = style == RopeStyle.NEOX ? pair : 2 * pair;
                int b = style == RopeStyle.NEOX ? pair + d / 2 : 2 * pair + 1;
                float[] x = new float[d];
                x[a] = 1f;
                Attention.rope(x, 5, base, style);
                double theta = 5 * Math.pow(base, -2.0 * pair / d);
                assertEquals(Math.cos(theta), x[a], 1e-6, style + " pair " + pair);
                assertEquals(Math.sin(theta), x[b], 1e-6, style + " pair " + pair);
                float[] y = new float[d];
                y[b] = 1f;
                Attention.rope(y, 5, base, style);
                assertEquals(-Math.sin(theta), y[a], 1e-6);
                assertEquals(Math.cos(theta), y[b], 1e-6);
            }
        }
    }

    @Test
    void ropeScoresDependOnlyOnTheDistance() {
        int d = 64;
        float[] q = random(d), k = random(d);
        for (RopeStyle style : RopeStyle.values()) {
            for (int distance : new int[] {0, 1, 7, 100}) {
                double first = Double.NaN;
                for (int n : new int[] {0, 3, 50, 900}) {
                    float[] qm = Attention.rope(q.clone(), n + distance, 10000f, style);
                    float[] kn = Attention.rope(k.clone(), n, 10000f, style);
                    double score = Attention.dot(qm, 0, kn, 0, d);
                    if (Double.isNaN(first)) first = score;
                    else assertEquals(first, score, 1e-5 * Math.max(1, Math.abs(first)), style + " distance " + distance + " at n=" + n);
                }
            }
            // ...and the score does change with the distance (so the check above means something).
            double near = Attention.dot(Attention.rope(q.clone(), 1, 10000f, style), 0, Attention.rope(k.clone(), 0, 10000f, style), 0, d);
            double far = Attention.dot(Attention.rope(q.clone(), 9, 10000f, style), 0, Attention.rope(k.clone(), 0, 10000f, style), 0, d);
            assertTrue(Math.abs(near - far) > 1e-3, style + ": " + near + " vs " + far);
        }
    }

    @Test
    void neoxRopeIsNormRopeOnInterleavedDimensions() {
        // NEOX pairs (i, i+d/2); NORM pairs (2i, 2i+1). Interleaving the halves turns one into the other,
        // which is why llama.cpp's converter permutes the Q/K rows of llama files.
        int d = 16;
        float[] x = random(d);
        float[] interleaved = new float[d];
        for (int i = 0; i < d / 2; i++) { interleaved[2 * i] = x[i]; interleaved[2 * i + 1] = x[i + d / 2]; }
        Attention.rope(x, 11, 500f, RopeStyle.NEOX);
        Attention.rope(interleaved, 11, 500f, RopeStyle.NORM);
        for (int i = 0; i < d / 2; i++) {
            assertEquals(x[i], interleaved[2 * i], 1e-6);
            assertEquals(x[i + d / 2], interleaved[2 * i + 1], 1e-6);
        }
    }

    @Test
    void partialRopeLeavesTheRestAlone() {
        float[] x = random(8);
        float[] original = x.clone();
        float[] cos = new float[2], sin = new float[2];
        Attention.ropeAngles(3, 4, 10000f, cos, sin, 0);
        Attention.rope(x, 0, 4, cos, sin, 0, RopeStyle.NEOX);
        for (int i = 4; i < 8; i++) assertEquals(original[i], x[i]);
        assertEquals(original[0] * Math.cos(3) - original[2] * Math.sin(3), x[0], 1e-6);
    }
}
