import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import llm.Attention;
import llm.SparseAttention;
import org.junit.jupiter.api.Test;

class SparseAttentionTest {

    static boolean[] row(int n, int... keys) {
        boolean[] r = new boolean[n];
        for (int k : keys) r[k] = true;
        return r;
    }

    static float[][] random(Random random, int n, int d) {
        float[][] m = new float[n][d];
        for (float[] r : m) for (int i = 0; i < d; i++) r[i] = (float) random.nextGaussian();
        return m;
    }

    @Test
    void localSeesTheLastWindowPositions() {
        boolean[][] mask = SparseAttention.local(6, 3);
        assertArrayEquals(row(6, 0), mask[0]);
        assertArrayEquals(row(6, 0, 1, 2), mask[2]);
        assertArrayEquals(row(6, 3, 4, 5), mask[5]);
        assertEquals(1 + 2 + 3 + 3 + 3 + 3, SparseAttention.computed(mask));
        assertEquals(15 / 21.0, SparseAttention.shareOfCausal(mask), 1e-12);
    }

    @Test
    void stridedSeesTheRecentPositionsAndEveryStrideTh() {
        // Child et al.: i - j <= l, or (i - j) mod l == 0
        boolean[][] mask = SparseAttention.strided(10, 3);
        assertArrayEquals(row(10, 0, 3, 6, 7, 8, 9), mask[9]);
        assertArrayEquals(row(10, 1, 4, 5, 6, 7), mask[7]);
    }

    @Test
    void fixedSeesItsOwnBlockAndTheSummaryPositionsOfEarlierBlocks() {
        boolean[][] mask = SparseAttention.fixed(8, 4, 1);
        assertArrayEquals(row(8, 3, 4, 5, 6), mask[6]);
        assertArrayEquals(row(8, 0, 1, 2), mask[2], "no summary from the future");
        boolean[][] two = SparseAttention.fixed(12, 4, 2);
        assertArrayEquals(row(12, 2, 3, 6, 7, 8, 9), two[9]);
    }

    @Test
    void causalIsTheWholeLowerTriangle() {
        assertEquals(1.0, SparseAttention.shareOfCausal(SparseAttention.causal(9)), 0);
        assertEquals(1.0, SparseAttention.shareOfCausal(SparseAttention.local(9, 9)), 0);
        assertThrows(IllegalArgumentException.class, () -> SparseAttention.local(4, 0));
        assertThrows(IllegalArgumentException.class, () -> SparseAttention.fixed(4, 2, 3));
    }

    @Test
    void aMaskedKeyGetsNoWeightAndALocalWindowEqualsAttentionOnTheWindowAlone() {
        Random random = new Random(3);
        int n = 12, d = 8, window = 4;
        float[][] q = random(random, n, d), k = random(random, n, d), v = random(random, n, d);
        boolean[][] mask = SparseAttention.local(n, window);
        float[][] weights = new float[n][n];
        float[][] out = Attention.scaledDotProductAttention(q, k, v, SparseAttention.additive(mask), weights);
        for (int i = 0; i < n; i++) {
            double sum = 0;
            for (int j = 0; j < n; j++) {
                if (!mask[i][j]) assertEquals(0f, weights[i][j], "query " + i + " key " + j);
                sum += weights[i][j];
            }
            assertEquals(1.0, sum, 1e-6);
            // the same query over only the keys in its window
            int from = Math.max(0, i - window + 1);
            float[][] kw = java.util.Arrays.copyOfRange(k, from, i + 1), vw = java.util.Arrays.copyOfRange(v, from, i + 1);
            float[][] alone = Attention.scaledDotProductAttention(new float[][] {q[i]}, kw, vw, null, null);
            assertArrayEquals(alone[0], out[i], 1e-6f);
        }
    }
}
