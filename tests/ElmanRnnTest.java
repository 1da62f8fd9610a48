import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import llm.ElmanRnn;
import llm.Vectors;
import org.junit.jupiter.api.Test;

class ElmanRnnTest {

    static List<float[]> randomInputs(int n, int size, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<float[]> inputs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            float[] x = new float[size];
            for (int j = 0; j < size; j++) x[j] = (float) random.nextGaussian();
            inputs.add(Vectors.normalized(x));
        }
        return inputs;
    }

    @Test
    void theContextVectorIsTheLastStateAndStaysInsideTanhsRange() {
        ElmanRnn rnn = ElmanRnn.random(8, 5, 0.8, 1);
        List<float[]> inputs = randomInputs(3, 8, 2);
        float[] h = new float[5];
        for (float[] x : inputs) h = rnn.step(h, x);
        assertArrayEquals(h, rnn.encode(inputs));
        for (float v : h) assertTrue(v > -1 && v < 1);
        assertArrayEquals(new float[5], rnn.encode(List.of()), "no input: the zero start state");
        assertArrayEquals(rnn.encode(inputs), ElmanRnn.random(8, 5, 0.8, 1).encode(inputs), "same seed, same weights");
    }

    @Test
    void aWordsInfluenceFadesWithEveryLaterWord() {
        ElmanRnn rnn = ElmanRnn.random(16, 16, 0.8, 3);
        List<float[]> words = randomInputs(40, 16, 4);
        float[] other = randomInputs(1, 16, 5).getFirst();
        double previous = Double.MAX_VALUE;
        // Change the first word; measure the context vector after 1, 5, 10, 20 and 40 words.
        for (int length : new int[] {1, 5, 10, 20, 40}) {
            List<float[]> changed = new ArrayList<>(words.subList(0, length));
            changed.set(0, other);
            double moved = Vectors.norm(Vectors.subtract(rnn.encode(words.subList(0, length)), rnn.encode(changed)));
            assertTrue(moved < previous, "after " + length + " words: " + moved + " (before: " + previous + ")");
            previous = moved;
        }
        assertTrue(previous < 1e-3, "after 40 words the first one is all but gone: " + previous);
    }

    @Test
    void wrongInputSizeIsRefused() {
        var e = assertThrows(IllegalArgumentException.class, () -> ElmanRnn.random(4, 3, 0.8, 1).step(new float[3], new float[5]));
        assertEquals("an input of 5 numbers; this RNN reads 4", e.getMessage());
    }
}
