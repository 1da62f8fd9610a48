import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import java.util.Random;
import llm.Attention;
import llm.SequencePacking;
import llm.SparseAttention;
import org.junit.jupiter.api.Test;

class SequencePackingTest {

    @Test
    void positionIdsRestartForEveryDocument() {
        assertArrayEquals(new int[] {0, 1, 2, 0, 1, 0, 1, 2, 3}, SequencePacking.positionIds(3, 2, 4));
        assertArrayEquals(new int[] {0, 0, 0, 1, 1, 2, 2, 2, 2}, SequencePacking.documentIds(3, 2, 4));
    }

    @Test
    void theMaskIsCausalInsideEachDocumentAndClosedBetweenThem() {
        boolean[][] mask = SequencePacking.blockDiagonalCausalMask(2, 3);
        boolean T = true, F = false;
        boolean[][] expected = {
                {T, F, F, F, F},
                {T, T, F, F, F},
                {F, F, T, F, F},
                {F, F, T, T, F},
                {F, F, T, T, T}};
        for (int i = 0; i < 5; i++) assertArrayEquals(expected[i], mask[i], "row " + i);
    }

    @Test
    void firstFitDecreasingFillsRowsAndLongDocumentsAreCut() {
        int[] lengths = {5, 3, 7, 2, 9};
        List<SequencePacking.Row> rows = SequencePacking.pack(lengths, 10);
        assertEquals(3, rows.size());
        assertArrayEquals(new int[] {9}, rows.get(0).pieces());
        assertArrayEquals(new int[] {7, 3}, rows.get(1).pieces());
        assertArrayEquals(new int[] {5, 2}, rows.get(2).pieces());
        assertEquals(4 / 30.0, SequencePacking.packingWaste(lengths, 10), 1e-12);
        assertEquals(24 / 50.0, SequencePacking.paddingWaste(lengths, 10), 1e-12);
        assertArrayEquals(new int[] {10, 10, 5, 4}, SequencePacking.pieces(new int[] {25, 4}, 10));
        assertThrows(IllegalArgumentException.class, () -> SequencePacking.pieces(new int[] {0}, 10));
    }

    @Test
    void aPackedRowGivesEachDocumentTheAttentionItWouldGetAlone() {
        int[] lengths = {3, 2, 4};
        int n = 9, d = 8;
        Random random = new Random(11);
        float[][] q = new float[n][d], k = new float[n][d], v = new float[n][d];
        for (float[][] m : new float[][][] {q, k, v}) for (float[] r : m) for (int i = 0; i < d; i++) r[i] = (float) random.nextGaussian();

        int[] positions = SequencePacking.positionIds(lengths);
        float[][] qp = new float[n][], kp = new float[n][];
        for (int t = 0; t < n; t++) {
            qp[t] = Attention.rope(q[t].clone(), positions[t], 10000f, Attention.RopeStyle.NEOX);
            kp[t] = Attention.rope(k[t].clone(), positions[t], 10000f, Attention.RopeStyle.NEOX);
        }
        float[][] packed = Attention.scaledDotProductAttention(qp, kp, v,
                SparseAttention.additive(SequencePacking.blockDiagonalCausalMask(lengths)), null);

        int start = 0;
        for (int length : lengths) {
            float[][] qa = new float[length][], ka = new float[length][], va = new float[length][];
            for (int t = 0; t < length; t++) {
                qa[t] = Attention.rope(q[start + t].clone(), t, 10000f, Attention.RopeStyle.NEOX);
                ka[t] = Attention.rope(k[start + t].clone(), t, 10000f, Attention.RopeStyle.NEOX);
                va[t] = v[start + t];
            }
            float[][] alone = Attention.scaledDotProductAttention(qa, ka, va, Attention.causalMask(length), null);
            for (int t = 0; t < length; t++) assertArrayEquals(alone[t], packed[start + t], 1e-6f, "token " + (start + t));
            start += length;
        }
    }
}
