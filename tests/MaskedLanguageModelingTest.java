import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import llm.MaskedLanguageModeling;
import llm.MaskedLanguageModeling.Action;
import llm.MaskedLanguageModeling.Example;
import org.junit.jupiter.api.Test;

class MaskedLanguageModelingTest {

    static final long MASK = 103;
    static final int VOCAB = 30522;

    @Test
    void proportionsHoldOverManyDraws() {
        // 200,000 ordinary tokens: 30,000 picked on average. A share p of n draws has a standard
        // deviation √(p(1−p)/n): 0.0008 for the 15 %, 0.0023 for 80 %, 0.0017 for 10 % of 30,000.
        // The tolerances below are 5 of those, so a correct recipe fails about once in a million runs.
        int n = 200_000;
        long[] ids = new long[n];
        for (int i = 0; i < n; i++) ids[i] = 1000 + i % 20000;
        Example e = MaskedLanguageModeling.mask(ids, new boolean[n], MASK, VOCAB, new SplittableRandom(1));
        int picked = 0, masked = 0, random = 0, unchanged = 0;
        for (int i = 0; i < n; i++) {
            switch (e.actions()[i]) {
                case MASKED -> { masked++; assertEquals(MASK, e.inputIds()[i]); }
                case RANDOM -> random++;
                case UNCHANGED -> { unchanged++; assertEquals(ids[i], e.inputIds()[i]); }
                case KEPT_UNPICKED -> { assertEquals(ids[i], e.inputIds()[i]); assertEquals(MaskedLanguageModeling.IGNORE, e.labels()[i]); }
            }
            if (e.actions()[i] != Action.KEPT_UNPICKED) { picked++; assertEquals(ids[i], e.labels()[i], "the label is the original token"); }
        }
        assertEquals(0.15, picked / (double) n, 0.004);
        assertEquals(0.80, masked / (double) picked, 0.012);
        assertEquals(0.10, random / (double) picked, 0.009);
        assertEquals(0.10, unchanged / (double) picked, 0.009);
    }

    @Test
    void randomReplacementsComeFromTheVocabulary() {
        int n = 50_000;
        Example e = MaskedLanguageModeling.mask(new long[n], new boolean[n], MASK, 7, new SplittableRandom(2));
        int changed = 0;
        for (int i = 0; i < n; i++) {
            if (e.actions()[i] == Action.RANDOM) {
                assertTrue(e.inputIds()[i] >= 0 && e.inputIds()[i] < 7);
                if (e.inputIds()[i] != 0) changed++;
            }
        }
        assertTrue(changed > 0);
    }

    @Test
    void specialTokensAreNeverPicked() {
        long[] ids = {101, 2000, 2001, 2002, 102};
        boolean[] special = {true, false, false, false, true};
        for (int seed = 0; seed < 500; seed++) {
            Example e = MaskedLanguageModeling.mask(ids, special, MASK, VOCAB, new SplittableRandom(seed));
            assertEquals(101, e.inputIds()[0]);
            assertEquals(102, e.inputIds()[4]);
            assertEquals(MaskedLanguageModeling.IGNORE, e.labels()[0]);
            assertEquals(MaskedLanguageModeling.IGNORE, e.labels()[4]);
        }
    }

    @Test
    void sameSeedSameMasks() {
        long[] ids = new long[300];
        for (int i = 0; i < ids.length; i++) ids[i] = 2000 + i;
        Example a = MaskedLanguageModeling.mask(ids, new boolean[300], MASK, VOCAB, new SplittableRandom(42));
        Example b = MaskedLanguageModeling.mask(ids, new boolean[300], MASK, VOCAB, new SplittableRandom(42));
        Example c = MaskedLanguageModeling.mask(ids, new boolean[300], MASK, VOCAB, new SplittableRandom(43));
        assertArrayEquals(a.inputIds(), b.inputIds());
        assertArrayEquals(a.labels(), b.labels());
        assertNotEquals(java.util.Arrays.toString(a.inputIds()), java.util.Arrays.toString(c.inputIds()));
    }

    @Test
    void mismatchedFlagsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> MaskedLanguageModeling.mask(new long[2], new boolean[1], MASK, VOCAB, new SplittableRandom(0)));
    }
}
