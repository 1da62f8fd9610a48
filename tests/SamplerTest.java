import static org.junit.jupiter.api.Assertions.*;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import llm.Sampler;
import org.junit.jupiter.api.Test;

/** Decoding strategies: greedy, temperature, top-k, top-p, seeds. */
class SamplerTest {

    private static float[] logitsOf(double... probabilities) {
        float[] logits = new float[probabilities.length];
        for (int i = 0; i < logits.length; i++) logits[i] = (float) Math.log(probabilities[i]);
        return logits;
    }

    @Test
    void greedyIsTheArgmax() {
        Random random = new Random(1);
        Sampler greedy = Sampler.greedy();
        for (int trial = 0; trial < 50; trial++) {
            float[] logits = new float[300];
            for (int i = 0; i < logits.length; i++) logits[i] = (float) random.nextGaussian();
            int best = 0;
            for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
            assertEquals(best, greedy.sample(logits));
        }
        assertEquals(1, greedy.sample(new float[] {0f, 5f, 5f}), "ties go to the first");
        assertEquals(2, Sampler.of(0f, 0, 1f, 7).sample(new float[] {0f, 1f, 2f}), "temperature 0 is greedy");
    }

    @Test
    void topKNeverPicksOutsideTheKMostLikely() {
        Random random = new Random(2);
        float[] logits = new float[100];
        for (int i = 0; i < logits.length; i++) logits[i] = (float) random.nextGaussian();
        Integer[] byLogit = new Integer[100];
        for (int i = 0; i < 100; i++) byLogit[i] = i;
        Arrays.sort(byLogit, (a, b) -> Float.compare(logits[b], logits[a]));
        Set<Integer> allowed = Set.of(byLogit[0], byLogit[1], byLogit[2], byLogit[3], byLogit[4]);

        Sampler sampler = Sampler.of(2f, 5, 1f, 3);
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 2000; i++) {
            int id = sampler.sample(logits);
            assertTrue(allowed.contains(id), "picked " + id + " outside the top 5 " + allowed);
            seen.add(id);
        }
        assertEquals(allowed, seen, "at temperature 2 all five candidates get drawn");
    }

    @Test
    void topPKeepsTheSmallestSetReachingP() {
        float[] logits = logitsOf(0.05, 0.5, 0.1, 0.3, 0.05);
        assertAllowed(Sampler.of(1f, 0, 0.75f, 4), logits, Set.of(1, 3));
        assertAllowed(Sampler.of(1f, 0, 0.85f, 4), logits, Set.of(1, 3, 2));
        assertAllowed(Sampler.of(1f, 0, 0.3f, 4), logits, Set.of(1));
        // top-k first, then top-p over what is left (renormalised): 0.5/0.8 = 0.625 < 0.7 -> two tokens
        assertAllowed(Sampler.of(1f, 2, 0.7f, 4), logits, Set.of(1, 3));
        assertAllowed(Sampler.of(1f, 2, 0.6f, 4), logits, Set.of(1));
    }

    private static void assertAllowed(Sampler sampler, float[] logits, Set<Integer> allowed) {
        int[] ids = new int[logits.length];
        float[] probs = new float[logits.length];
        int count = sampler.candidates(logits, 0, logits.length, ids, probs);
        Set<Integer> candidates = new HashSet<>();
        double sum = 0;
        for (int i = 0; i < count; i++) { candidates.add(ids[i]); sum += probs[i]; }
        assertEquals(allowed, candidates);
        assertEquals(1.0, sum, 1e-6);
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            int id = sampler.sample(logits);
            assertTrue(allowed.contains(id), "picked " + id + " outside " + allowed);
            seen.add(id);
        }
        assertEquals(allowed, seen);
    }

    @Test
    void samplingFollowsTheDistribution() {
        float[] logits = logitsOf(0.6, 0.3, 0.1);
        Sampler sampler = Sampler.of(1f, 0, 1f, 5);
        int[] counts = new int[3];
        int draws = 20000;
        for (int i = 0; i < draws; i++) counts[sampler.sample(logits)]++;
        // standard error of a frequency near 0.5 over 20000 draws is ~0.0035: 0.02 is over 5 of them
        assertEquals(0.6, counts[0] / (double) draws, 0.02);
        assertEquals(0.3, counts[1] / (double) draws, 0.02);
        assertEquals(0.1, counts[2] / (double) draws, 0.02);

        // Temperature 0.5 squares the odds: 0.36 : 0.09 : 0.01 -> 0.783, 0.196, 0.022
        Sampler cold = Sampler.of(0.5f, 0, 1f, 6);
        int[] coldCounts = new int[3];
        for (int i = 0; i < draws; i++) coldCounts[cold.sample(logits)]++;
        assertEquals(0.36 / 0.46, coldCounts[0] / (double) draws, 0.02);
        assertEquals(0.09 / 0.46, coldCounts[1] / (double) draws, 0.02);
    }

    @Test
    void theSameSeedGivesTheSameIds() {
        float[] logits = new float[50]; // flat: every draw is a real choice
        int[] a = draw(Sampler.of(1f, 0, 1f, 1234), logits);
        int[] b = draw(Sampler.of(1f, 0, 1f, 1234), logits);
        int[] c = draw(Sampler.of(1f, 0, 1f, 1235), logits);
        assertArrayEquals(a, b);
        assertFalse(Arrays.equals(a, c));
    }

    private static int[] draw(Sampler sampler, float[] logits) {
        int[] ids = new int[40];
        for (int i = 0; i < ids.length; i++) ids[i] = sampler.sample(logits);
        return ids;
    }

    @Test
    void badSettingsAreRefusedClearly() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Sampler.of(-1f, 0, 1f, 0)).getMessage().contains("temperature"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Sampler.of(1f, -2, 1f, 0)).getMessage().contains("top-k"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Sampler.of(1f, 0, 0f, 0)).getMessage().contains("top-p"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Sampler.of(1f, 0, 1.5f, 0)).getMessage().contains("top-p"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Sampler.of(Float.NaN, 0, 1f, 0)).getMessage().contains("temperature"));
    }
}
